//! Custom user attribute definitions: `GET /api/2/users/custom_attributes`.
//! They only label users' custom attributes, so a refusal is logged and the
//! users are read without them.

use crate::client::transport::Transport;
use crate::error::Result;
use crate::logging;
use crate::sync::kinds::Kind;
use crate::sync::mapping;
use crate::sync::step::{Ctx, PhaseSpec, Position, StepOutcome};
use crate::vocabulary::{RelationshipType, ACCOUNT, CUSTOM_ATTRIBUTE, HAS};

use super::users::USERS;

/// The phase record.
pub static PHASE: PhaseSpec = PhaseSpec {
    name: "custom_attributes",
    declares: &[],
    feeds: &[Kind(&USERS)],
    enter: |state| state.pending(Kind(&USERS)),
    entities: &[&CUSTOM_ATTRIBUTE],
    relationships: &[RelationshipType {
        class: HAS,
        from: &ACCOUNT,
        to: &CUSTOM_ATTRIBUTE,
        description: "The account defines the custom attribute.",
        properties: &[],
        may_dangle: false,
    }],
};

/// Read every definition (one call).
pub fn run<T: Transport>(ctx: &mut Ctx<'_, T>, _at: &Position) -> Result<StepOutcome> {
    let body = match ctx.client.get_json("/api/2/users/custom_attributes") {
        Ok((_, body)) => body,
        Err(error) if !error.retryable() => {
            logging::warn(&format!("custom attribute definitions not read: {error}"));
            return Ok(StepOutcome::done(0));
        }
        Err(error) => return Err(error),
    };
    let items = body.as_array().map(Vec::as_slice).unwrap_or_default();
    for item in items {
        match mapping::custom_attribute(item) {
            Some(entity) if ctx.first_sighting(&entity.key) => ctx.owned(entity),
            Some(_) => {}
            None => logging::warn("skipped a custom attribute definition without a numeric id"),
        }
    }
    Ok(StepOutcome::done(items.len()))
}
