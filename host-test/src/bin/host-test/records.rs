//! The JSON Lines file of `host-test sync --out`, written and read back
//! (by `host-test diff`).
//!
//! The first line describes the sync; then one line per entity, then one
//! per relationship:
//!
//! ```text
//! {"record":"sync","incremental":false,"pages":3,"kinds":[{"kind":"users","status":"complete"},…],"notes":[…]}
//! {"record":"entity","key":…,"entity_type":…,"classes":[…],"display_name":…,"properties":{…}}
//! {"record":"relationship","class":…,"from_key":…,"to_key":…,"properties":{…}}
//! ```
//!
//! A kind's status is `{"status":"complete"}`, `{"status":"pending"}`,
//! `{"status":"skipped","reason":…}` or `{"status":"failed","error":{"kind":…,
//! "detail":…,"message":…,"retryable":…}}` (`kind` is the WIT case name,
//! `detail` its payload or null). `notes` are the pages' `notes` (how the
//! sync read the data), in order; files written before they existed have
//! none.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use host_test::harness::types::{
    transport_kind_name, transport_kind_named, ConnectorError, Entity, ErrorKind, KindReport, KindStatus, Relationship,
};
use host_test::harness::SyncOutput;
use serde_json::{json, Value};

/// A page's `properties` string as JSON; a component bug (not an object)
/// is kept as the raw string and warned about.
fn properties(raw: &str, key: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            tracing::warn!(key, "properties are not a JSON object; written as a string");
            Value::String(raw.to_string())
        }
    }
}

fn entity_record(e: &Entity) -> Value {
    json!({
        "record": "entity",
        "key": e.key,
        "entity_type": e.entity_type,
        "classes": e.classes,
        "display_name": e.display_name,
        "properties": properties(&e.properties, &e.key),
    })
}

fn relationship_record(r: &Relationship) -> Value {
    json!({
        "record": "relationship",
        "class": r.class,
        "from_key": r.from_key,
        "to_key": r.to_key,
        "properties": properties(&r.properties, &r.from_key),
    })
}

/// An error kind as `(WIT case name, payload)`.
fn error_kind_parts(kind: &ErrorKind) -> (&'static str, Value) {
    match kind {
        ErrorKind::InvalidConfig(field) => ("invalid-config", json!(field)),
        ErrorKind::NotConfigured => ("not-configured", Value::Null),
        ErrorKind::AuthenticationFailed => ("authentication-failed", Value::Null),
        ErrorKind::InsufficientScope => ("insufficient-scope", Value::Null),
        ErrorKind::NotFound => ("not-found", Value::Null),
        ErrorKind::InvalidInput(what) => ("invalid-input", json!(what)),
        ErrorKind::RateLimited(seconds) => ("rate-limited", json!(seconds)),
        ErrorKind::Upstream(status) => ("upstream", json!(status)),
        ErrorKind::UnexpectedResponse(status) => ("unexpected-response", json!(status)),
        ErrorKind::Transport(kind) => ("transport", json!(transport_kind_name(*kind))),
        ErrorKind::InvalidCursor => ("invalid-cursor", Value::Null),
    }
}

fn parse_error_kind(name: &str, detail: &Value) -> anyhow::Result<ErrorKind> {
    let text = || detail.as_str().map(str::to_string).context("the error's detail must be a string");
    let number = || detail.as_u64().context("the error's detail must be a number");
    Ok(match name {
        "invalid-config" => ErrorKind::InvalidConfig(text()?),
        "not-configured" => ErrorKind::NotConfigured,
        "authentication-failed" => ErrorKind::AuthenticationFailed,
        "insufficient-scope" => ErrorKind::InsufficientScope,
        "not-found" => ErrorKind::NotFound,
        "invalid-input" => ErrorKind::InvalidInput(text()?),
        "rate-limited" => ErrorKind::RateLimited(u32::try_from(number()?)?),
        "upstream" => ErrorKind::Upstream(u16::try_from(number()?)?),
        "unexpected-response" => ErrorKind::UnexpectedResponse(u16::try_from(number()?)?),
        "transport" => {
            let name = text()?;
            let kind = transport_kind_named(&name).with_context(|| format!("unknown transport kind {name:?}"))?;
            ErrorKind::Transport(kind)
        }
        "invalid-cursor" => ErrorKind::InvalidCursor,
        other => anyhow::bail!("unknown error kind {other:?}"),
    })
}

/// A kind report as JSON (see the module docs).
pub fn kind_report_json(report: &KindReport) -> Value {
    match &report.status {
        KindStatus::Pending => json!({"kind": report.kind, "status": "pending"}),
        KindStatus::Complete => json!({"kind": report.kind, "status": "complete"}),
        KindStatus::Skipped(reason) => json!({"kind": report.kind, "status": "skipped", "reason": reason}),
        KindStatus::Failed(error) => {
            let (kind, detail) = error_kind_parts(&error.kind);
            json!({"kind": report.kind, "status": "failed", "error": {
                "kind": kind, "detail": detail, "message": error.message, "retryable": error.retryable,
            }})
        }
    }
}

/// A kind report back from [`kind_report_json`].
pub fn parse_kind_report(value: &Value) -> anyhow::Result<KindReport> {
    let field = |name: &str| value.get(name).and_then(Value::as_str).with_context(|| format!("no string {name:?}"));
    let status = match field("status")? {
        "pending" => KindStatus::Pending,
        "complete" => KindStatus::Complete,
        "skipped" => KindStatus::Skipped(field("reason")?.to_string()),
        "failed" => {
            let error = value.get("error").context("a failed kind needs an \"error\"")?;
            let text = |name: &str| error.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            KindStatus::Failed(ConnectorError {
                kind: parse_error_kind(&text("kind"), error.get("detail").unwrap_or(&Value::Null))?,
                message: text("message"),
                retryable: error.get("retryable").and_then(Value::as_bool).unwrap_or(false),
            })
        }
        other => anyhow::bail!("unknown kind status {other:?}"),
    };
    Ok(KindReport { kind: field("kind")?.to_string(), status })
}

/// The first line of the file: how the sync went.
#[cfg(test)]
fn sync_record(output: &SyncOutput) -> Value {
    json!({
        "record": "sync",
        "incremental": output.incremental,
        "pages": output.pages,
        "kinds": output.report.iter().map(kind_report_json).collect::<Vec<_>>(),
        "notes": output.notes,
    })
}

/// One page's records as JSON Lines (entities, then relationships), appended to `buf`.
pub fn page_lines(buf: &mut Vec<u8>, entities: &[Entity], relationships: &[Relationship]) -> anyhow::Result<()> {
    for entity in entities {
        serde_json::to_writer(&mut *buf, &entity_record(entity))?;
        buf.push(b'\n');
    }
    for relationship in relationships {
        serde_json::to_writer(&mut *buf, &relationship_record(relationship))?;
        buf.push(b'\n');
    }
    Ok(())
}

/// Writes the final `--out` file: the `sync` line (`incremental`, `pages`,
/// `kinds` as [`kind_report_json`] values, `notes`), then the records file copied as
/// is (streamed: the records are never all in memory). Written to
/// `OUT.tmp` and renamed, so `out` is either absent or complete.
pub fn compose_output(
    out: &Path,
    incremental: bool,
    pages: u64,
    kinds: &[Value],
    notes: &[String],
    records: &Path,
) -> anyhow::Result<()> {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        let line =
            json!({"record": "sync", "incremental": incremental, "pages": pages, "kinds": kinds, "notes": notes});
        serde_json::to_writer(&mut writer, &line)?;
        writer.write_all(b"\n")?;
        let mut source = std::fs::File::open(records).with_context(|| format!("cannot read {}", records.display()))?;
        std::io::copy(&mut source, &mut writer).with_context(|| format!("cannot write {}", tmp.display()))?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// Writes `output` as JSON Lines to `path`.
#[cfg(test)]
pub fn write_records(path: &Path, output: &SyncOutput) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer(&mut out, &sync_record(output))?;
    out.write_all(b"\n")?;
    for entity in &output.entities {
        serde_json::to_writer(&mut out, &entity_record(entity))?;
        out.write_all(b"\n")?;
    }
    for relationship in &output.relationships {
        serde_json::to_writer(&mut out, &relationship_record(relationship))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn string(value: &Value, name: &str) -> anyhow::Result<String> {
    value.get(name).and_then(Value::as_str).map(str::to_string).with_context(|| format!("no string {name:?}"))
}

/// `properties` back to the string the component returned.
fn properties_text(value: &Value) -> String {
    match value.get("properties") {
        Some(Value::String(raw)) => raw.clone(),
        Some(other) => other.to_string(),
        None => "{}".to_string(),
    }
}

/// Parses one line into `output`.
fn read_line(line: &str, output: &mut SyncOutput, seen_sync: &mut bool) -> anyhow::Result<()> {
    let value: Value = serde_json::from_str(line).context("not JSON")?;
    match value.get("record").and_then(Value::as_str) {
        Some("sync") => {
            *seen_sync = true;
            output.incremental = value.get("incremental").and_then(Value::as_bool).context("no \"incremental\"")?;
            output.pages = value.get("pages").and_then(Value::as_u64).unwrap_or(0);
            let kinds = value.get("kinds").and_then(Value::as_array).context("no \"kinds\" array")?;
            output.report = kinds.iter().map(parse_kind_report).collect::<anyhow::Result<_>>()?;
            output.notes = match value.get("notes") {
                None => Vec::new(),
                Some(notes) => serde_json::from_value(notes.clone()).context("\"notes\" is not a list of strings")?,
            };
        }
        Some("entity") => output.entities.push(Entity {
            key: string(&value, "key")?,
            entity_type: string(&value, "entity_type")?,
            classes: value
                .get("classes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            display_name: string(&value, "display_name").unwrap_or_default(),
            properties: properties_text(&value),
        }),
        Some("relationship") => output.relationships.push(Relationship {
            class: string(&value, "class")?,
            from_key: string(&value, "from_key")?,
            to_key: string(&value, "to_key")?,
            properties: properties_text(&value),
        }),
        Some(other) => anyhow::bail!("unknown record {other:?}"),
        None => anyhow::bail!("no \"record\" field"),
    }
    Ok(())
}

/// Reads a file [`write_records`] wrote. Refuses a file without the `sync`
/// line: without it, nobody can tell whether the file holds a full sync.
pub fn read_records(path: &Path) -> anyhow::Result<SyncOutput> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut output = SyncOutput::default();
    let mut seen_sync = false;
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        read_line(&line, &mut output, &mut seen_sync)
            .with_context(|| format!("{}:{}: not a `host-test sync --out` record", path.display(), number + 1))?;
    }
    anyhow::ensure!(
        seen_sync,
        "{} has no {{\"record\":\"sync\"}} line, so whether it holds a full sync is unknown \
         (written by an older host-test?); write it again with `host-test sync --out`",
        path.display()
    );
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use host_test::harness::types::TransportKind;

    #[test]
    fn records_round_trip_through_a_file() {
        let errors = [
            ErrorKind::InvalidConfig("subdomain".into()),
            ErrorKind::NotConfigured,
            ErrorKind::AuthenticationFailed,
            ErrorKind::InsufficientScope,
            ErrorKind::NotFound,
            ErrorKind::InvalidInput("kinds".into()),
            ErrorKind::RateLimited(30),
            ErrorKind::Upstream(503),
            ErrorKind::UnexpectedResponse(200),
            ErrorKind::Transport(TransportKind::HostRefused),
            ErrorKind::Transport(TransportKind::Timeout),
            ErrorKind::InvalidCursor,
        ];
        let mut report = vec![
            KindReport { kind: "users".into(), status: KindStatus::Complete },
            KindReport { kind: "events".into(), status: KindStatus::Skipped("not licensed".into()) },
            KindReport { kind: "roles".into(), status: KindStatus::Pending },
        ];
        for (k, kind) in errors.into_iter().enumerate() {
            report.push(KindReport {
                kind: format!("kind{k}"),
                status: KindStatus::Failed(ConnectorError { kind, message: "m".into(), retryable: k % 2 == 0 }),
            });
        }
        let output = SyncOutput {
            incremental: true,
            entities: vec![Entity {
                key: "onelogin_user:1".into(),
                entity_type: "onelogin_user".into(),
                classes: vec!["User".into()],
                display_name: "Ada".into(),
                properties: r#"{"email":"ada@example.com"}"#.into(),
            }],
            relationships: vec![Relationship {
                class: "HAS".into(),
                from_key: "onelogin_account:1".into(),
                to_key: "onelogin_user:1".into(),
                properties: "{}".into(),
            }],
            pages: 2,
            report,
            checkpoint: None,
            notes: vec!["user_apps: access read per user".into()],
        };
        let path = std::env::temp_dir().join(format!("host-test-records-{}.jsonl", std::process::id()));
        write_records(&path, &output).unwrap();
        let read = read_records(&path).unwrap();
        assert_eq!(read, output);

        std::fs::write(&path, "{\"record\":\"entity\",\"key\":\"a:1\",\"entity_type\":\"a\"}\n").unwrap();
        let error = format!("{:#}", read_records(&path).unwrap_err());
        assert!(error.contains("full sync"), "{error}");
        std::fs::write(&path, "{\"record\":\"sync\",\"incremental\":false,\"kinds\":[]}\nnot json\n").unwrap();
        let error = format!("{:#}", read_records(&path).unwrap_err());
        assert!(error.contains(":2:"), "{error}");
        std::fs::remove_file(&path).ok();
    }
}
