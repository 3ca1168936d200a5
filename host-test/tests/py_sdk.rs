//! Cross-checks the simulator against OneLogin's official Python SDK.
//!
//! The PyPI package `onelogin` is generated from OneLogin's OpenAPI spec; its pydantic
//! models are an independent statement of the response shapes. This test starts the
//! simulator in-process, makes sure a venv with the pinned SDK exists under the cargo
//! target dir (`<target>/py-sdk-venv`, created on first run, reused afterwards), and
//! runs `tests/py_sdk/check_simulator.py`, which calls every operation the connector
//! uses through the SDK's typed API methods. Any response the SDK cannot parse fails
//! the test.
//!
//! Needs `python3` (3.9+) on PATH (or `PY_SDK_PYTHON`) and, on the first run, access
//! to PyPI. Either missing is a test failure, not a skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use host_test::simulator::{Simulator, SimulatorConfig};

/// The pinned SDK version (current on PyPI when this test was written).
const SDK_VERSION: &str = "4.0.1";
/// Marker written into the venv once the SDK is installed.
const MARKER: &str = ".onelogin-sdk-installed";
/// Time allowed for creating the venv and installing the SDK.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
/// Time allowed for the check script.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Output of a finished (or killed) child process.
struct Output {
    /// Exit code, or `None` if killed by a signal or the timeout.
    code: Option<i32>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

impl Output {
    fn success(&self) -> bool {
        !self.timed_out && self.code == Some(0)
    }

    fn describe(&self) -> String {
        let status = if self.timed_out {
            "timed out (killed)".to_string()
        } else {
            match self.code {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".to_string(),
            }
        };
        format!("{status}\n----- stdout -----\n{}\n----- stderr -----\n{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion or until `timeout`, capturing stdout and stderr.
/// `Err` only when the program cannot be started.
fn run(mut cmd: Command, timeout: Duration) -> std::io::Result<Output> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        code: status.code(),
        timed_out,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

/// The cargo target directory: `CARGO_TARGET_DIR` if set and absolute, else the
/// directory holding this test binary's profile dir (`<target>/release/deps/py_sdk-*`),
/// else the workspace's `target`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        if dir.is_absolute() {
            return dir;
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        // <target>[/<triple>]/<profile>/deps/<test binary>
        if let Some(deps) = exe.parent().filter(|d| d.file_name().is_some_and(|n| n == "deps")) {
            if let Some(target) = deps.parent().and_then(Path::parent) {
                return target.to_path_buf();
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Makes sure `venv` holds the pinned SDK; returns its python. Quick when the marker
/// file names the pinned version. Panics with a clear message when python3 is missing
/// or pip cannot install the SDK.
fn ensure_venv(venv: &Path) -> PathBuf {
    let python = venv_python(venv);
    let marker = venv.join(MARKER);
    let wanted = format!("onelogin=={SDK_VERSION}\n");
    if python.exists() && std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return python;
    }

    let base_python = std::env::var("PY_SDK_PYTHON").unwrap_or_else(|_| "python3".to_string());
    eprintln!("py_sdk: creating {} with {base_python} and onelogin=={SDK_VERSION}", venv.display());
    let _ = std::fs::remove_file(&marker);
    let mut create = Command::new(&base_python);
    create.arg("-m").arg("venv").arg("--clear").arg(venv);
    let out = run(create, INSTALL_TIMEOUT).unwrap_or_else(|e| {
        panic!(
            "py_sdk: cannot run `{base_python}` ({e}). This test needs Python 3 (3.9+) on PATH \
             (or PY_SDK_PYTHON) to install OneLogin's Python SDK."
        )
    });
    assert!(out.success(), "py_sdk: `{base_python} -m venv {}` failed: {}", venv.display(), out.describe());

    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input"])
        .arg(format!("onelogin=={SDK_VERSION}"));
    let out = run(pip, INSTALL_TIMEOUT).unwrap_or_else(|e| panic!("py_sdk: cannot run {} ({e})", python.display()));
    assert!(
        out.success(),
        "py_sdk: `pip install onelogin=={SDK_VERSION}` failed (is PyPI reachable?): {}",
        out.describe()
    );
    std::fs::write(&marker, wanted).expect("write the venv marker");
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_responses_parse_with_the_official_python_sdk() {
    let venv = target_dir().join("py-sdk-venv");
    let python = tokio::task::spawn_blocking(move || ensure_venv(&venv))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));

    let sim = Simulator::start(SimulatorConfig { users: 60, seed: 7, ..SimulatorConfig::default() })
        .await
        .expect("start the simulator");
    let creds = sim.manage_credentials();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("py_sdk").join("check_simulator.py");

    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .arg(sim.base_url())
        .arg(&creds.client_id)
        .arg(&creds.client_secret)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    let out = tokio::task::spawn_blocking(move || run(cmd, SCRIPT_TIMEOUT))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .unwrap_or_else(|e| panic!("py_sdk: cannot run {} ({e})", python.display()));

    assert!(
        out.success(),
        "check_simulator.py reported responses the OneLogin Python SDK cannot parse: {}",
        out.describe()
    );
    // The per-operation summary (visible with --nocapture).
    println!("{}", out.stdout);
    sim.shutdown().await;
}
