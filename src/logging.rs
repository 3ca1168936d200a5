//! Log lines to the host through the WIT `log` interface. Callers never pass
//! secrets. Native builds (unit tests) have no host, so lines are dropped.

#[cfg(target_arch = "wasm32")]
fn emit(level: crate::identity::connector::log::Level, message: &str) {
    crate::identity::connector::log::log(level, message);
}

#[cfg(target_arch = "wasm32")]
pub fn debug(message: &str) {
    emit(crate::identity::connector::log::Level::Debug, message);
}

#[cfg(target_arch = "wasm32")]
pub fn info(message: &str) {
    emit(crate::identity::connector::log::Level::Info, message);
}

#[cfg(target_arch = "wasm32")]
pub fn warn(message: &str) {
    emit(crate::identity::connector::log::Level::Warn, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub fn debug(_message: &str) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn info(_message: &str) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn warn(_message: &str) {}
