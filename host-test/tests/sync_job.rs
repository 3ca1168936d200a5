//! `host-test sync` as a job: streamed output, `--state`/`--resume` after a
//! kill at random pages, `--wait` across a (short) simulated rate window,
//! bounded host memory, paths from the caller's directory, and every exit
//! status. Everything goes through the real CLI against the simulator over
//! loopback HTTP.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use host_test::harness::config::component_path;
use host_test::simulator::{Fault, FaultKind, Simulator, SimulatorConfig};
use rand::{Rng as _, SeedableRng as _};

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-test"));
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env("ONELOGIN_CONNECTOR_WASM", component_path())
        .env_remove("HOST_TEST_CALLER_CWD")
        .env_remove("ONELOGIN_CLIENT_ID")
        .env_remove("ONELOGIN_CLIENT_SECRET")
        .env_remove("ONELOGIN_SUBDOMAIN")
        .env_remove("ONELOGIN_REGION")
        .env_remove("ONELOGIN_BASE_URL");
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().expect("host-test runs")
}

/// Runs `host-test ARGS` off the async runtime.
async fn run_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().map_or("killed".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("host-test-job-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Pages committed in `DIR/state.json` (0 while there is none).
fn committed_pages(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["pages"].as_u64())
        .unwrap_or(0)
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

const TENANT: [&str; 8] = ["--simulator", "--users", "60", "--seed", "7", "--max-items", "10", "--latency-ms"];

#[test]
fn a_sync_killed_at_random_pages_and_resumed_gives_exactly_a_clean_run() {
    let seed: u64 = std::env::var("RESUME_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    println!("kill-and-resume seed: {seed} (RESUME_TEST_SEED={seed} repeats this run)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = temp_dir("kill");
    let (clean, resumed, state, stats) =
        (dir.join("clean.jsonl"), dir.join("resumed.jsonl"), dir.join("state"), dir.join("stats.json"));

    let mut clean_args = TENANT.to_vec();
    clean_args.extend(["2", "--quiet", "--out", s(&clean)]);
    let output = run(&[&["sync"], clean_args.as_slice()].concat());
    assert!(output.status.success(), "{}", text(&output));
    let clean_text = std::fs::read_to_string(&clean).unwrap();
    let header: serde_json::Value = serde_json::from_str(clean_text.lines().next().unwrap()).unwrap();
    let total_pages = header["pages"].as_u64().unwrap();
    assert!(total_pages >= 8, "the tenant needs enough pages to kill the sync in the middle: {total_pages}");

    let mut job = TENANT.to_vec();
    job.extend(["2", "--quiet", "--out", s(&resumed), "--state", s(&state), "--stats", s(&stats)]);
    let mut kills = Vec::new();
    let mut resume = false;
    let finished = loop {
        let mut args = vec!["sync"];
        args.extend(job.iter().copied());
        if resume {
            args.push("--resume");
        }
        let mut child = command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let before = committed_pages(&state);
        if kills.len() < 3 && before + 2 < total_pages {
            let target = rng.random_range(before + 1..total_pages - 1);
            let deadline = Instant::now() + Duration::from_secs(120);
            while committed_pages(&state) < target && Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL: no cleanup, whatever it was doing
                child.wait().unwrap();
                kills.push(committed_pages(&state));
                resume = true;
                continue;
            }
        }
        let output = child.wait_with_output().unwrap();
        break output;
    };
    println!("killed after committed pages {kills:?} of {total_pages}");
    assert!(finished.status.success(), "{}", String::from_utf8_lossy(&finished.stderr));
    assert!(!kills.is_empty(), "the sync was never killed (it finished too fast)");
    assert!(!resumed.with_extension("jsonl.tmp").exists());

    let resumed_text = std::fs::read_to_string(&resumed).unwrap();
    let (clean_lines, resumed_lines) = (sorted_lines(&clean_text), sorted_lines(&resumed_text));
    let mut unique = resumed_lines.clone();
    unique.dedup();
    assert_eq!(unique.len(), resumed_lines.len(), "a record was written twice (seed {seed})");
    assert_eq!(resumed_lines.len(), clean_lines.len(), "records lost or added (seed {seed})");
    assert!(resumed_lines == clean_lines, "the resumed output differs from a clean run (seed {seed})");
    assert_eq!(resumed_text, clean_text, "the same records in the same order (seed {seed})");
    let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(stats["runs"].as_u64(), Some(kills.len() as u64 + 1), "{stats}");

    // A finished sync is not started again: --resume prints its summary.
    let again = run(&[&["sync"], job.as_slice(), &["--resume"]].concat());
    assert!(again.status.success(), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("onelogin_user"), "{}", text(&again));
    // ...and a new sync refuses a directory that holds one.
    let refused = run(&[&["sync"], job.as_slice()].concat());
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("--resume"), "{}", text(&refused));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_rate_limited_sync_exits_4_with_the_resume_command_then_waits_out_the_window() {
    let dir = temp_dir("rate");
    let (clean, out, state) = (dir.join("clean.jsonl"), dir.join("out.jsonl"), dir.join("state"));
    // Groups and privileges are v1 reads (1 + 1 + 2 per privilege: 10 calls), on the hourly budget.
    let tenant = ["--simulator", "--users", "12", "--seed", "4", "--kinds", "users,groups,privileges"];
    let mut clean_args = vec!["sync"];
    clean_args.extend(tenant);
    clean_args.extend(["--rate-limit", "off", "--quiet", "--out", s(&clean)]);
    let output = run(&clean_args);
    assert!(output.status.success(), "{}", text(&output));

    // 4 v1 calls per 2-second window; the component may not wait inside a call.
    let mut job = vec!["sync"];
    job.extend(tenant);
    job.extend(["--rate-limit", "4", "--rate-window-secs", "2", "--max-wait-ms", "0", "--max-items", "5"]);
    job.extend(["--concurrency", "1"]);
    job.extend(["--out", s(&out), "--state", s(&state)]);
    let limited = run(&job);
    assert_eq!(limited.status.code(), Some(4), "{}", text(&limited));
    let stderr = String::from_utf8_lossy(&limited.stderr).into_owned();
    assert!(stderr.contains("rate-limited") && stderr.contains("acme.onelogin.com"), "{stderr}");
    assert!(stderr.contains("--resume --wait"), "the resume command is printed: {stderr}");
    assert!(!out.exists(), "--out is written only when the sync completes");
    assert!(committed_pages(&state) > 0, "the pages before the limit are kept");

    // The state holds no secret: the simulator's credentials come from its seed.
    let secret = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sim = Simulator::start(SimulatorConfig { users: 1, seed: 4, ..Default::default() }).await.unwrap();
        sim.manage_credentials().client_secret
    });
    let state_text = std::fs::read_to_string(state.join("state.json")).unwrap();
    assert!(!state_text.contains(&secret) && !text(&limited).contains(&secret), "the client secret leaked");

    let mut resume = job.clone();
    resume.extend(["--resume", "--wait"]);
    let started = Instant::now();
    let resumed = run(&resume);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let stderr = String::from_utf8_lossy(&resumed.stderr).into_owned();
    assert!(stderr.contains("waiting") && stderr.contains("resuming at"), "{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited for the window");
    let summary = String::from_utf8_lossy(&resumed.stdout).into_owned();
    assert!(summary.contains(&format!("records: {}", out.display())), "{summary}");
    assert!(summary.contains(&format!("state: {}", state.display())), "{summary}");
    assert!(summary.contains("host peak RSS") && summary.contains("component peak linear memory"), "{summary}");
    // The same records and kinds; only the page count differs (a rate limit ends a page early).
    let (waited, clean) = (std::fs::read_to_string(&out).unwrap(), std::fs::read_to_string(&clean).unwrap());
    let header = |text: &str| {
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        line["kinds"].clone()
    };
    assert_eq!(header(&waited), header(&clean));
    let records = |text: &str| -> Vec<String> {
        sorted_lines(text.split_once('\n').unwrap().1).into_iter().map(str::to_string).collect()
    };
    let (waited, clean) = (records(&waited), records(&clean));
    assert!(!clean.is_empty());
    assert_eq!(waited.len(), clean.len(), "records lost or repeated across the waits");
    assert!(waited == clean, "waiting out rate windows changes nothing in the records");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_seeded_simulator_sync_is_byte_identical_across_runs() {
    let dir = temp_dir("identical");
    let outputs: Vec<String> = (0..2)
        .map(|i| {
            let out = dir.join(format!("out{i}.jsonl"));
            let checkpoint = dir.join(format!("checkpoint{i}"));
            let output = run(&[
                "sync",
                "--simulator",
                "--users",
                "40",
                "--seed",
                "9",
                // Events (app logins included) are opt-in: name them.
                "--kinds",
                "users,user_apps,events",
                "--quiet",
                "--out",
                s(&out),
                "--checkpoint-out",
                s(&checkpoint),
            ]);
            assert!(output.status.success(), "{}", text(&output));
            std::fs::read_to_string(&out).unwrap() + &std::fs::read_to_string(&checkpoint).unwrap()
        })
        .collect();
    assert!(outputs[0].contains("\"onelogin_event\""), "events are part of the comparison");
    assert!(outputs[0] == outputs[1], "two runs with the same seed differ");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_simulator_prints_a_config_the_sync_uses_as_is() {
    let dir = temp_dir("simconfig");
    let config = dir.join("sim.toml");
    let mut child = command(&["simulator", "--users", "8", "--config-out", s(&config)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !config.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    let output = run(&["sync", "--config", s(&config), "--quiet", "--kinds", "users"]);
    child.kill().unwrap();
    let printed = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}\n{}", text(&output), std::fs::read_to_string(&config).unwrap_or_default());
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert_eq!(stdout, std::fs::read_to_string(&config).unwrap(), "stdout and --config-out hold the same config");
    assert!(stdout.parse::<toml::Table>().is_ok(), "valid TOML:\n{stdout}");

    let too_many = run(&["simulator", "--users", "10000000"]);
    assert_eq!(too_many.status.code(), Some(2), "{}", text(&too_many));
    assert!(text(&too_many).contains("at most 500000 users"), "{}", text(&too_many));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_statuses_name_what_failed() {
    let dir = temp_dir("exits");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // 2: an unknown kind, a TOML error (with its line), two locations, an invalid action, a clamp is reported.
    let unknown = run_async(args(&["sync", "--simulator", "--users", "5", "--kinds", "nope"])).await;
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    std::fs::write(path("bad.toml"), "client_id = \"x\"\nclient_secret = \n").unwrap();
    let bad = run_async(args(&["sync", "--config", &path("bad.toml")])).await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("line 2, column"), "{}", text(&bad));
    std::fs::write(path("two.toml"), "client_id = \"x\"\nclient_secret = \"y\"\nsubdomain = \"a\"\nregion = \"us\"\n")
        .unwrap();
    let two = run_async(args(&["sync", "--config", &path("two.toml")])).await;
    assert_eq!(two.status.code(), Some(2), "{}", text(&two));
    assert!(text(&two).contains("only one of subdomain, region or base_url"), "{}", text(&two));
    std::fs::write(path("action.json"), r#"{"grant":{"principal":"onelogin_user:1","resource":"r"}}"#).unwrap();
    let action = run_async(args(&["provision", "--simulator", "--action", &path("action.json")])).await;
    assert_eq!(action.status.code(), Some(2), "{}", text(&action));
    assert!(text(&action).contains("grant.permission is missing"), "{}", text(&action));
    std::fs::write(path("input.json"), r#"{"suspend-account":"onelogin_group:1"}"#).unwrap();
    let input = run_async(args(&["provision", "--simulator", "--action", &path("input.json")])).await;
    assert_eq!(input.status.code(), Some(2), "invalid-input is a usage error: {}", text(&input));
    let clamped =
        run_async(args(&["sync", "--simulator", "--users", "5", "--kinds", "users", "--concurrency", "1000"])).await;
    assert!(clamped.status.success(), "{}", text(&clamped));
    assert!(text(&clamped).contains("clamped to 64"), "{}", text(&clamped));
    assert!(text(&clamped).contains("concurrency: 64"), "{}", text(&clamped));

    // 5: a selected kind failed (the rest is written); 3: a kind failed authentication.
    let sim = Simulator::start(SimulatorConfig { users: 6, seed: 3, ..Default::default() }).await.unwrap();
    let credentials = sim.manage_credentials();
    std::fs::write(
        path("sim.toml"),
        format!(
            "client_id = \"{}\"\nclient_secret = \"{}\"\nbase_url = \"{}\"\n",
            credentials.client_id,
            credentials.client_secret,
            sim.base_url()
        ),
    )
    .unwrap();
    // A 400 is not retried: the kind fails, the rest of the sync goes on.
    sim.inject(Fault::on("/api/2/mfa", FaultKind::ServerError(400), 1000));
    let partial =
        run_async(args(&["sync", "--config", &path("sim.toml"), "--quiet", "--out", &path("partial.jsonl")])).await;
    assert_eq!(partial.status.code(), Some(5), "{}", text(&partial));
    assert!(text(&partial).contains("mfa_devices"), "{}", text(&partial));
    assert!(std::path::Path::new(&path("partial.jsonl")).exists(), "a partial sync still writes its output");
    assert!(!text(&partial).contains(&credentials.client_secret));

    let sim = Simulator::start(SimulatorConfig { users: 6, seed: 3, ..Default::default() }).await.unwrap();
    let credentials = sim.manage_credentials();
    std::fs::write(
        path("sim2.toml"),
        format!(
            "client_id = \"{}\"\nclient_secret = \"{}\"\nbase_url = \"{}\"\n",
            credentials.client_id,
            credentials.client_secret,
            sim.base_url()
        ),
    )
    .unwrap();
    sim.inject(Fault::on("/api/2/mfa", FaultKind::ServerError(401), 1000));
    let auth = run_async(args(&["sync", "--config", &path("sim2.toml"), "--quiet"])).await;
    assert_eq!(auth.status.code(), Some(3), "{}", text(&auth));

    // 4 without --state: nothing to resume, and it says how to make it resumable.
    let limited =
        run_async(args(&["sync", "--simulator", "--users", "10", "--rate-limit", "3", "--max-wait-ms", "0"])).await;
    assert_eq!(limited.status.code(), Some(4), "{}", text(&limited));
    assert!(text(&limited).contains("--state DIR"), "{}", text(&limited));

    // 1: anything else (here: the component file is missing).
    let missing = run_async(args(&["--component", "/nonexistent.wasm", "sync", "--simulator", "--users", "5"])).await;
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    for output in [&unknown, &bad, &two, &action, &partial, &auth, &limited, &missing] {
        let all = text(output);
        assert!(
            !all.contains("ErrorCode::") && !all.contains("Some(") && !all.contains("{ "),
            "debug formatting: {all}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn relative_paths_are_taken_from_the_callers_directory() {
    let caller = temp_dir("caller");
    let elsewhere = temp_dir("elsewhere");
    let output = command(&[
        "sync",
        "--simulator",
        "--users",
        "5",
        "--kinds",
        "users",
        "--quiet",
        "--out",
        "rel/out.jsonl",
        "--stats",
        "stats.json",
        "--state",
        "state",
    ])
    .current_dir(&elsewhere)
    .env("HOST_TEST_CALLER_CWD", &caller)
    .output()
    .unwrap();
    // `rel/` does not exist: a usage error, before any sync, naming the caller's path.
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains(&caller.join("rel").display().to_string()), "{}", text(&output));
    std::fs::create_dir_all(caller.join("rel")).unwrap();
    std::fs::remove_dir_all(caller.join("state")).ok();
    let output = command(&[
        "sync",
        "--simulator",
        "--users",
        "5",
        "--kinds",
        "users",
        "--quiet",
        "--out",
        "rel/out.jsonl",
        "--stats",
        "stats.json",
        "--state",
        "state",
    ])
    .current_dir(&elsewhere)
    .env("HOST_TEST_CALLER_CWD", &caller)
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(caller.join("rel/out.jsonl").exists() && caller.join("stats.json").exists());
    assert!(caller.join("state/state.json").exists());
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none(), "nothing written where the process runs");
    std::fs::remove_dir_all(caller).ok();
    std::fs::remove_dir_all(elsewhere).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn host_memory_stays_bounded_as_the_tenant_grows() {
    // The tenant lives in this test process; the CLI only syncs it, so its
    // peak RSS is the host's own: it must not grow with the records.
    let mut peaks = Vec::new();
    for users in [200usize, 3000] {
        let sim = Simulator::start(SimulatorConfig { users, seed: 5, rate_limit_per_hour: None, ..Default::default() })
            .await
            .unwrap();
        let credentials = sim.manage_credentials();
        let dir = temp_dir(&format!("memory{users}"));
        let config = dir.join("sim.toml");
        std::fs::write(
            &config,
            format!(
                "client_id = \"{}\"\nclient_secret = \"{}\"\nbase_url = \"{}\"\n",
                credentials.client_id,
                credentials.client_secret,
                sim.base_url()
            ),
        )
        .unwrap();
        let (out, stats) = (dir.join("out.jsonl"), dir.join("stats.json"));
        let args: Vec<String> =
            ["sync", "--config", s(&config), "--quiet", "--kinds", "users,groups,roles,apps,mfa_devices"]
                .iter()
                .map(|a| a.to_string())
                .chain(["--out".into(), s(&out).into(), "--stats".into(), s(&stats).into()])
                .collect();
        let output = run_async(args).await;
        assert!(output.status.success(), "{}", text(&output));
        let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        let rss = stats["host_peak_rss_bytes"].as_u64().unwrap();
        let out_bytes = std::fs::metadata(&out).unwrap().len();
        println!("{users} users: host peak RSS {} MiB, output {} MiB", rss >> 20, out_bytes >> 20);
        peaks.push((rss, out_bytes));
        std::fs::remove_dir_all(dir).ok();
    }
    let ((small, small_out), (large, large_out)) = (peaks[0], peaks[1]);
    assert!(large_out > 8 * small_out, "the larger tenant writes much more: {small_out} vs {large_out}");
    assert!(large <= 100 << 20, "host peak RSS {} MiB > 100 MiB", large >> 20);
    assert!(
        large < small + (large_out - small_out) / 2,
        "host memory grows with the output: {} MiB -> {} MiB for {} MiB more records",
        small >> 20,
        large >> 20,
        (large_out - small_out) >> 20
    );
}
