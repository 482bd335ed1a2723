#!/usr/bin/env python3
"""Side-by-side benchmark of a generated project against the Python reference (bench/python/).

Driven by bench/Makefile (`make -C bench all`); each subcommand writes its measurements to
WORK/results/<name>.json and `report` turns them into a table and bench/RESULTS.md.

    project    generate the full preset from this working tree (template/ and hooks/)
    build      cold `cargo build --release --workspace` of it in a fresh CARGO_TARGET_DIR
    venv       cold `pip install --no-cache-dir -r python/requirements.txt` into a fresh venv
    data       the synthetic file, written once, read by both sides
    pipelines  both pipelines, alternately, REPS times: wall time, peak RSS, steps
    api        both APIs, alternately, REPS times, same wrk load: req/s, p50, p99
    regression the bundled regression example (DATA_SCHEMA=config/examples/penguins-body-mass.toml
               on the sample data) against scikit-learn's Ridge on the same split: R^2, RMSE, MAE
    report     the table with ratios, and RESULTS.md

Only the standard library: it runs under the system python3. Every wait has a deadline and every
server started here is stopped by its PID.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
NAME = "bench-project"
GENTOO = (
    '{"island": "Biscoe", "bill_length_mm": 47.5, "bill_depth_mm": 15.0, '
    '"flipper_length_mm": 217, "body_mass_g": 5200, "sex": "male"}'
)
RUST_STEPS = ["make_dataset", "train_model", "test_model", "predict_model"]
REGRESSION_SCHEMA = "config/examples/penguins-body-mass.toml"
REGRESSION_STEPS = ["make_dataset", "train_model", "test_model"]
# The settings the regression example runs with, set explicitly so neither the environment nor the
# project's config/.env can change them (they are the built-in defaults).
REGRESSION_SETTINGS = {"DATA_SOURCE": "sample", "DATA_SCHEMA": REGRESSION_SCHEMA, "SPLIT_SEED": "42",
                       "TEST_FRACTION": "0.2", "MODEL_ALGORITHM": "linear", "LINEAR_L2_PENALTY": "0.1"}


# --- helpers -------------------------------------------------------------------------------------


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def paths(args):
    work = os.path.abspath(args.work_dir)
    return {
        "work": work,
        "project": os.path.join(work, "project", NAME),
        "target": os.path.abspath(args.cargo_target_dir),
        "venv": os.path.abspath(args.venv),
        "data": os.path.join(work, f"synthetic-{args.rows}.csv"),
        "results": os.path.join(work, "results"),
        "runs": os.path.join(work, "runs"),
    }


def save(args, name, value):
    p = paths(args)
    os.makedirs(p["results"], exist_ok=True)
    with open(os.path.join(p["results"], name + ".json"), "w") as f:
        json.dump(value, f, indent=2)


def load(args, name):
    path = os.path.join(paths(args)["results"], name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def run(cmd, timeout, failure=SystemExit, **kw):
    """Runs a command to completion (or fails after `timeout` seconds); returns (seconds, stdout).

    A non-zero exit raises `failure` (by default, the benchmark stops)."""
    kw.setdefault("stdout", subprocess.PIPE)
    started = time.perf_counter()
    done = subprocess.run(cmd, text=True, timeout=timeout, **kw)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise failure(f"failed ({done.returncode}): {' '.join(cmd)}\n{(done.stdout or '')[-2000:]}")
    return seconds, done.stdout or ""


def timed(cmd, timeout, failure=SystemExit, **kw):
    """Runs under /usr/bin/time; returns (wall seconds, peak RSS in MiB, stdout)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        seconds, stdout = run(["/usr/bin/time", "-f", "%M", "-o", out.name] + cmd, timeout, failure, **kw)
        kib = int(out.read().strip().splitlines()[-1])
    return seconds, kib / 1024.0, stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(values):
    return statistics.median(values) if values else float("nan")


# --- project, build, venv, data ------------------------------------------------------------------


def cmd_project(args):
    p = paths(args)
    parent = os.path.dirname(p["project"])
    shutil.rmtree(parent, ignore_errors=True)
    os.makedirs(parent)
    with tempfile.TemporaryDirectory() as source:
        for part in ["template", "hooks"]:
            shutil.copytree(os.path.join(REPO, part), os.path.join(source, part), symlinks=True)
        cmd = [args.cargo_generate, "generate", "--path", source, "--name", NAME, "--silent",
               "--vcs", "none", "--values-file", os.path.join(REPO, "examples", "full.toml"),
               "--destination", parent]
        env = dict(os.environ, CARGO_GENERATE_LOG="error")
        run(cmd, 300, env=env, stdin=subprocess.DEVNULL)
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    save(args, "project", {"commit": commit, "command": " ".join(cmd[:2] + ["--path", "<copy of template/ and hooks/>"] + cmd[4:-2])})
    log(f"generated {p['project']} from {commit}")


def cmd_build(args):
    p = paths(args)
    # Sources are fetched first and not timed: the cold build is compilation, like pip's wheels
    # being prebuilt. (pip's timing below does include downloading.)
    run(["cargo", "fetch", "--locked"], 900, cwd=p["project"])
    shutil.rmtree(p["target"], ignore_errors=True)
    env = dict(os.environ, CARGO_TARGET_DIR=p["target"])
    env.pop("RUSTFLAGS", None)
    log("cold cargo build --release --workspace ...")
    seconds, rss, _ = timed(["cargo", "build", "--release", "--workspace", "--locked", "--quiet"],
                            1800, cwd=p["project"], env=env)
    crates = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"], cwd=p["project"],
                            stdout=subprocess.PIPE, text=True, env=env)
    count = len(json.loads(crates.stdout)["packages"]) if crates.returncode == 0 else None
    release = os.path.join(p["target"], "release")
    sizes = {b: os.path.getsize(os.path.join(release, b)) for b in [f"{NAME}-api", "predict_model"]
             if os.path.exists(os.path.join(release, b))}
    save(args, "build", {"seconds": seconds, "peak_rss_mib": rss, "packages": count, "binary_bytes": sizes})
    log(f"cold release build: {seconds:.0f} s")


def cmd_venv(args):
    p = paths(args)
    shutil.rmtree(p["venv"], ignore_errors=True)
    run([args.python, "-m", "venv", p["venv"]], 300)
    pip = os.path.join(p["venv"], "bin", "pip")
    log("cold pip install --no-cache-dir ...")
    seconds, _ = run([pip, "install", "--quiet", "--no-cache-dir", "--disable-pip-version-check",
                      "-r", os.path.join(BENCH, "python", "requirements.txt")], 1800)
    site = subprocess.run([os.path.join(p["venv"], "bin", "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          stdout=subprocess.PIPE, text=True).stdout.strip()
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(site) for f in fs
               if not os.path.islink(os.path.join(d, f)))
    version = subprocess.run([os.path.join(p["venv"], "bin", "python"), "--version"],
                             stdout=subprocess.PIPE, text=True).stdout.strip()
    save(args, "venv", {"seconds": seconds, "site_packages_bytes": size, "python": version})
    log(f"cold pip install: {seconds:.0f} s")


def cmd_data(args):
    p = paths(args)
    python = os.path.join(p["venv"], "bin", "python")
    seconds, _ = run([python, os.path.join(BENCH, "gen_synthetic.py"), "--rows", str(args.rows),
                      "--seed", "42", "--out", p["data"]], 600)
    save(args, f"data-{args.rows}", {"rows": args.rows, "bytes": os.path.getsize(p["data"]), "seconds": seconds})
    log(f"{p['data']}: {args.rows} rows, {os.path.getsize(p['data'])} bytes")


# --- pipelines -----------------------------------------------------------------------------------


def rust_env(run_dir):
    env = dict(os.environ)
    env.update({
        "DATA_SOURCE": paths.current["data"],
        "DATASETS_DIR": os.path.join(run_dir, "datasets"),
        "MODELS_DIR": os.path.join(run_dir, "models"),
        "REPORTS_DIR": os.path.join(run_dir, "reports"),
        "REFERENCE_DIR": os.path.join(run_dir, "reference"),
        "MODEL_NAME": "bench",
        "MODEL_VERSION": "1",
        "RUST_LOG": "warn",
    })
    return env


def rust_pipeline(args):
    p = paths(args)
    run_dir = os.path.join(p["runs"], "rust")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    env = rust_env(run_dir)
    release = os.path.join(p["target"], "release")
    steps, peaks = {}, {}
    for step in RUST_STEPS:
        seconds, rss, _ = timed([os.path.join(release, step)], args.step_timeout, cwd=p["project"],
                                env=env, stderr=subprocess.DEVNULL)
        steps[step], peaks[step] = seconds, rss
    with open(os.path.join(run_dir, "reports", "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(run_dir, "reports", "predictions.csv")) as f:
        predicted = sum(1 for _ in f) - 1
    return {"wall": sum(steps.values()), "peak_rss_mib": max(peaks.values()), "steps": steps,
            "step_peak_rss_mib": peaks, "train_seconds": steps["train_model"],
            "predict_seconds": steps["predict_model"], "predicted_rows": predicted,
            "accuracy": find_number(metrics, "accuracy"), "macro_f1": find_number(metrics, "macro_f1")}


def find_number(value, key):
    """The first number under `key` anywhere in a JSON value."""
    if isinstance(value, dict):
        if isinstance(value.get(key), (int, float)):
            return value[key]
        for v in value.values():
            found = find_number(v, key)
            if found is not None:
                return found
    return None


def python_pipeline(args):
    p = paths(args)
    run_dir = os.path.join(p["runs"], "python")
    shutil.rmtree(run_dir, ignore_errors=True)
    python = os.path.join(p["venv"], "bin", "python")
    try:
        seconds, rss, out = timed([python, os.path.join(BENCH, "python", "pipeline.py"), "--input",
                                   p["data"], "--work-dir", run_dir], args.step_timeout * 4,
                                  failure=RuntimeError)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        # pandas holds the whole frame several times over; on large files it may not fit in memory.
        log(f"python pipeline did not finish: {str(err).splitlines()[0]}")
        return {"failed": str(err).splitlines()[0]}
    report = json.loads(out.strip().splitlines()[-1])
    return {"wall": seconds, "peak_rss_mib": rss, "steps": report["steps"],
            "train_seconds": report["steps"]["train"], "predict_seconds": report["steps"]["predict"],
            "predicted_rows": report["rows"]["predicted"], "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"]}


def cmd_pipelines(args):
    p = paths(args)
    run(["cat", p["data"]], 120, stdout=subprocess.DEVNULL)  # same page-cache state for both
    results = {"rust": [], "python": []}
    sides = {"rust": rust_pipeline, "python": python_pipeline}
    for rep in range(args.reps):
        order = ["rust", "python"] if rep % 2 == 0 else ["python", "rust"]
        for side in order:
            r = sides[side](args)
            results[side].append(r)
            if "failed" not in r:
                log(f"pipeline rep {rep + 1}/{args.reps} {side}: {r['wall']:.2f} s, {r['peak_rss_mib']:.0f} MiB")
    save(args, f"pipelines-{args.rows}", results)


# --- APIs ----------------------------------------------------------------------------------------


def post(port, timeout=2.0):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/predict", data=GENTOO.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def start_server(args, side):
    p = paths(args)
    port = free_port()
    if side == "rust":
        env = dict(os.environ, API_HOST="127.0.0.1", API_PORT=str(port), RUST_LOG="warn",
                   API_MODEL_DIR=os.path.join(p["runs"], "rust", "models", "bench-1"))
        cmd = [os.path.join(p["target"], "release", f"{NAME}-api")]
        cwd = p["project"]
    else:
        env = dict(os.environ, MODEL_PATH=os.path.join(p["runs"], "python", "model.joblib"))
        cmd = [os.path.join(p["venv"], "bin", "uvicorn"), "serve:app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
        cwd = os.path.join(BENCH, "python")
    server = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"{side} API exited with {server.returncode} before it was ready")
        try:
            answer = post(port)
            return server, port, answer
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    sys.exit(f"{side} API not ready within 60 s")


def peak_rss_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def parse_duration(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(args, port, seconds, script):
    cmd = ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.concurrency), "-d", f"{seconds}s",
           "--timeout", "5s", "-s", script, f"http://127.0.0.1:{port}/v1/predict"]
    _, out = run(cmd, seconds + 60)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_ms": parse_duration(latency["50"]), "p99_ms": parse_duration(latency["99"]),
            "non_2xx": errors, "socket_errors": socket_errors.group(1) if socket_errors else None}


def cmd_api(args):
    script = os.path.join(paths(args)["work"], "post.lua")
    with open(script, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(GENTOO)}\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    results = {"rust": [], "python": []}
    answers = {}
    for rep in range(args.reps):
        order = ["rust", "python"] if rep % 2 == 0 else ["python", "rust"]
        for side in order:
            server, port, answer = start_server(args, side)
            try:
                answers[side] = answer
                wrk(args, port, args.warmup, script)
                r = wrk(args, port, args.api_seconds, script)
                r["server_peak_rss_mib"] = peak_rss_of(server.pid)
            finally:
                stop_server(server)
            results[side].append(r)
            log(f"api rep {rep + 1}/{args.reps} {side}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
                f"p99 {r['p99_ms']:.2f} ms, non-2xx {r['non_2xx']}")
    results["answers"] = answers
    results["load"] = {"threads": args.threads, "concurrency": args.concurrency, "seconds": args.api_seconds,
                       "warmup_seconds": args.warmup}
    save(args, "api", results)


# --- regression ----------------------------------------------------------------------------------


def cmd_regression(args):
    """The bundled regression example through the Rust pipeline, then scikit-learn on its split.

    Uses the release binaries of `build` (a `cargo build` of just the three pipeline binaries with
    the workspace's features, which is a no-op after `build` and builds no API/UI crate without it),
    and the venv of `venv` plus pyarrow (untimed, requirements-regression.txt)."""
    p = paths(args)
    if not os.path.isdir(p["project"]):
        sys.exit(f"no generated project in {p['project']}: run `make -C bench project` first")
    python = os.path.join(p["venv"], "bin", "python")
    if not os.path.exists(python):
        sys.exit(f"no venv in {p['venv']}: run `make -C bench venv` first")
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
         os.path.join(BENCH, "python", "requirements-regression.txt")], 900)
    env = dict(os.environ, CARGO_TARGET_DIR=p["target"])
    env.pop("RUSTFLAGS", None)
    bins = [flag for step in REGRESSION_STEPS for flag in ("--bin", step)]
    run(["cargo", "build", "--release", "--workspace", "--locked", "--quiet"] + bins, 1800,
        cwd=p["project"], env=env)

    run_dir = os.path.join(p["runs"], "regression")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    env = rust_env(run_dir)
    env.update(REGRESSION_SETTINGS)
    release = os.path.join(p["target"], "release")
    steps = {}
    for step in REGRESSION_STEPS:
        steps[step], _ = run([os.path.join(release, step)], args.step_timeout, cwd=p["project"],
                             env=env, stderr=subprocess.STDOUT)
    seconds, out = run([python, os.path.join(BENCH, "python", "regression.py"),
                        "--datasets", os.path.join(run_dir, "datasets"),
                        "--model-dir", os.path.join(run_dir, "models", "bench-1"),
                        "--metrics", os.path.join(run_dir, "reports", "metrics.json")], 300)
    result = json.loads(out.strip().splitlines()[-1])
    result["rust"]["steps"] = steps
    result["python_seconds"] = seconds
    result["settings"] = REGRESSION_SETTINGS
    result["commit"] = (load(args, "project") or {}).get("commit")
    save(args, "regression", result)
    r, g, f = result["rust"], result["sklearn_gold"], result["sklearn_pipeline"]
    log(f"regression ({result['rows']['test']} held-out rows): R^2 Rust {r['r2']:.4f}, scikit-learn "
        f"{g['r2']:.4f} (gold inputs) / {f['r2']:.4f} (own pipeline); RMSE {r['rmse']:.4f} / "
        f"{g['rmse']:.4f} / {f['rmse']:.4f}")


# --- report --------------------------------------------------------------------------------------


def machine():
    def sh(cmd):
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.strip()
    return {
        "cpu": sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1"),
        "nproc": sh("nproc"),
        "memory": sh("free -h | awk '/^Mem:/ {print $2}'"),
        "kernel": sh("uname -sr"),
        "rustc": sh("rustc --version"),
        "lscpu": sh("lscpu | grep -E '^(Architecture|CPU\\(s\\)|Model name|Thread|Core|Socket|L2|L3)'"),
        "free": sh("free -m"),
    }


def larger_runs(args):
    """Lines of RESULTS.md for pipeline runs on other row counts (e.g. `make -C bench large`)."""
    lines = []
    results = paths(args)["results"]
    sizes = sorted(int(m.group(1)) for m in (re.fullmatch(r"pipelines-(\d+)\.json", f)
                   for f in (os.listdir(results) if os.path.isdir(results) else [])) if m)
    for rows in (n for n in sizes if n != args.rows):
        runs = load(args, f"pipelines-{rows}")
        lines.append(f"\n### Pipeline on {rows:,} rows (`make -C bench large`, {len(runs['rust'])} repetition(s))\n")
        lines.append("| side | wall time (s) | peak RSS (MiB) | held-out accuracy | |")
        lines.append("|---|---:|---:|---:|---|")
        for side, label in [("rust", "generated project (Rust)"), ("python", "pandas + scikit-learn")]:
            done = [x for x in runs[side] if "failed" not in x]
            if done:
                lines.append(f"| {label} | {median([x['wall'] for x in done]):.2f} | "
                             f"{median([x['peak_rss_mib'] for x in done]):,.0f} | {done[-1]['accuracy']:.4f} | |")
            else:
                lines.append(f"| {label} | did not finish | | | {runs[side][-1]['failed']} |")
        rust = [x for x in runs["rust"] if "failed" not in x]
        python = [x for x in runs["python"] if "failed" not in x]
        if rust and python:
            lines.append(f"\nRatio: {median([x['wall'] for x in python]) / median([x['wall'] for x in rust]):.1f}x "
                         f"faster, {median([x['peak_rss_mib'] for x in rust]) / median([x['peak_rss_mib'] for x in python]):.2f} "
                         "of the peak memory.")
        if rust:
            peak = median([x["peak_rss_mib"] for x in rust])
            lines.append(f"Target: ours <= 1.5 GiB peak: {peak:,.0f} MiB, {'met' if peak <= 1536 else '**missed**'}.")
            steps = rust[0]["steps"]
            lines.append("Rust steps (s / peak MiB): " + ", ".join(
                f"{k} {median([x['steps'][k] for x in rust]):.2f} / {median([x['step_peak_rss_mib'][k] for x in rust]):,.0f}"
                for k in steps) + ".")
    return lines


def regression_section(result):
    """The "Regression (bundled example)" part of RESULTS.md, from results/regression.json."""
    if not result:
        return ""
    r, g, f, rows = result["rust"], result["sklearn_gold"], result["sklearn_pipeline"], result["rows"]
    unit = f" ({result['unit']})" if result.get("unit") else ""
    v = result["versions"]

    def line(label, m):
        return f"| {label} | {m['r2']:.4f} | {m['rmse']:.4f} | {m['mae']:.4f} |"

    def diff(label, m):
        return (f"| {label} | {m['r2'] - r['r2']:+.1e} | {m['rmse'] - r['rmse']:+.1e} | "
                f"{m['mae'] - r['mae']:+.1e} |")

    agree = max(g["max_abs_prediction_difference"], f["max_abs_prediction_difference"]) < 1e-6
    return f"""
## Regression (bundled example)

`make -C bench regression` (part of `all`), on a project generated from commit
`{result.get('commit') or '?'}`: the generated project's `make_dataset`, `train_model` and `test_model`
(release build) with `DATA_SCHEMA={REGRESSION_SCHEMA}` on the bundled sample
(`DATA_SOURCE=sample`, `SPLIT_SEED={result['split']['seed']}`, `TEST_FRACTION={result['split']['test_fraction']}`,
ridge regression with `LINEAR_L2_PENALTY={result['alpha']}`), predicting `{result['target']}`{unit} from
{', '.join(result['inputs'])}. Rows: {rows['bronze']} read, {rows['quarantined']} quarantined,
{rows['train']} train, {rows['test']} held out.

Then scikit-learn `Ridge(alpha={result['alpha']})` on that same split (bench/python/regression.py), twice:

- **gold inputs**: fitted on the gold layer's encoded `train.parquet`, scored on `test.parquet`: the
  very numbers the Rust model saw, so only the solver differs;
- **own pipeline**: a scikit-learn `Pipeline` (numeric: `SimpleImputer(median)` + `StandardScaler`;
  categorical: `SimpleImputer(most_frequent)` + `OneHotEncoder` over the declared categories; then
  `Ridge`) fitted on the raw training rows, scored on the raw held-out rows (`gold/test_raw.parquet`).
  The raw training rows are silver minus the held-out rows; their targets equal `train.parquet`'s,
  row for row, and the split drawn again from the seed (quantile bins, SplitMix64) is
  {"the same" if result["split"]["redrawn_from_seed_matches"] else "**not the same** (regression.py's copy of the split no longer follows gold.rs; the comparison itself still uses gold's split)"}.

| held-out ({r['rows']} rows) | R^2 | RMSE{unit} | MAE{unit} |
|---|---:|---:|---:|
{line("generated project (Rust)", r)}
{line("scikit-learn Ridge, gold inputs", g)}
{line("scikit-learn Pipeline + Ridge, raw rows", f)}
{diff("difference, gold inputs - Rust", g)}
{diff("difference, own pipeline - Rust", f)}

Both minimise `|y - Xw - b|^2 + alpha |w|^2` with an unpenalised intercept and solve it exactly (Rust
by Cholesky, scikit-learn's solver `{g.get('solver', '?')}`), {"so they agree to rounding" if agree else "**yet they disagree**"}: the held-out
predictions differ by at most {g['max_abs_prediction_difference']:.1e} (gold inputs) and
{f['max_abs_prediction_difference']:.1e} (own pipeline), the coefficients by
{g['max_abs_coefficient_difference']:.1e} and {f['max_abs_coefficient_difference']:.1e}, and
scikit-learn's own encoding of the rows differs from gold's by at most
{max(f['max_abs_encoded_train_difference'], f['max_abs_encoded_test_difference']):.1e}. Python
{v['python']}, scikit-learn {v['scikit-learn']}, numpy {v['numpy']}, pandas {v['pandas']}, pyarrow
{v['pyarrow']}. Time: the three Rust steps {sum(r['steps'].values()):.2f} s, the comparison script
{result['python_seconds']:.2f} s.
"""


def cmd_report(args):
    build, venv, data = load(args, "build"), load(args, "venv"), load(args, f"data-{args.rows}")
    pipes, api, project = load(args, f"pipelines-{args.rows}"), load(args, "api"), load(args, "project")
    rows = []  # (what, rust, python, ratio text)

    def add(what, rust, python, unit, better):
        if rust is None or python is None:
            return
        ratio = python / rust if better == "lower" else rust / python
        def fmt(v):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
        rows.append((what, f"{fmt(rust)} {unit}", f"{fmt(python)} {unit}", f"{ratio:.1f}x"))

    if pipes:
        r, py = pipes["rust"], pipes["python"]
        n = data["rows"] if data else None
        add(f"pipeline wall time, {n:,} rows", median([x["wall"] for x in r]), median([x["wall"] for x in py]), "s", "lower")
        add("pipeline peak memory (RSS)", median([x["peak_rss_mib"] for x in r]),
            median([x["peak_rss_mib"] for x in py]), "MiB", "lower")
        add("training time (fit, incl. preprocessing)", median([x["train_seconds"] for x in r]),
            median([x["train_seconds"] for x in py]), "s", "lower")
        add("batch prediction (held-out rows in, predictions CSV out)",
            median([x["predicted_rows"] / x["predict_seconds"] for x in r]),
            median([x["predicted_rows"] / x["predict_seconds"] for x in py]), "rows/s", "higher")
    if api:
        r, py = api["rust"], api["python"]
        load_text = f"wrk -t{api['load']['threads']} -c{api['load']['concurrency']}"
        add(f"API throughput, {load_text}", median([x["rps"] for x in r]), median([x["rps"] for x in py]), "req/s", "higher")
        add("API latency p50", median([x["p50_ms"] for x in r]), median([x["p50_ms"] for x in py]), "ms", "lower")
        add("API latency p99", median([x["p99_ms"] for x in r]), median([x["p99_ms"] for x in py]), "ms", "lower")
        rr = [x["server_peak_rss_mib"] for x in r if x.get("server_peak_rss_mib")]
        pr = [x["server_peak_rss_mib"] for x in py if x.get("server_peak_rss_mib")]
        add("API server peak memory (RSS)", median(rr) if rr else None, median(pr) if pr else None, "MiB", "lower")
    if build and venv:
        add("cold install/build (full preset vs pip install)", build["seconds"], venv["seconds"], "s", "lower")

    table = ["| measure | generated project (Rust) | pandas + scikit-learn / FastAPI | ratio (Rust advantage) |",
             "|---|---:|---:|---:|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    print("\n".join(table))

    reps = len(pipes["rust"]) if pipes else 0
    m = machine()
    targets = []

    def target(text, met, measured):
        targets.append(f"| {text} | {measured} | {'met' if met else '**missed**'} |")

    if api:
        rps = median([x["rps"] for x in api["rust"]])
        p99 = median([x["p99_ms"] for x in api["rust"]])
        target("API >= 70% of the bare-axum ceiling (58,000 req/s): >= 40,600 req/s", rps >= 40600,
               f"{rps:,.0f} req/s ({rps / 58000:.0%} of the ceiling)")
        target("API p99 < 5 ms", p99 < 5, f"{p99:.2f} ms")
    if pipes:
        speed = median([x["wall"] for x in pipes["python"]]) / median([x["wall"] for x in pipes["rust"]])
        mem = median([x["peak_rss_mib"] for x in pipes["rust"]]) / median([x["peak_rss_mib"] for x in pipes["python"]])
        target("pipeline >= 10x faster than pandas + scikit-learn", speed >= 10, f"{speed:.1f}x")
        target("pipeline peak memory <= 1/3 of pandas + scikit-learn", mem <= 1 / 3, f"{mem:.2f} of it")
        rust_accuracy, python_accuracy = pipes["rust"][-1]["accuracy"], pipes["python"][-1]["accuracy"]
        # Each side draws its own stratified split, so "equal" means within a few held-out rows.
        target("equal held-out accuracy (within 0.001)", abs(rust_accuracy - python_accuracy) <= 0.001,
               f"{rust_accuracy:.4f} vs {python_accuracy:.4f}")
    if build:
        target("cold release build of the full preset < 3 minutes", build["seconds"] < 180, f"{build['seconds']:.0f} s")
    detail = []
    if pipes:
        detail.append("\n### Pipeline steps (medians, seconds)\n")
        detail.append("| Rust step | s | peak RSS MiB | | Python step | s |")
        detail.append("|---|---:|---:|---|---|---:|")
        rsteps = list(pipes["rust"][0]["steps"])
        psteps = list(pipes["python"][0]["steps"])
        for i in range(max(len(rsteps), len(psteps))):
            a = rsteps[i] if i < len(rsteps) else ""
            b = psteps[i] if i < len(psteps) else ""
            av = f"{median([x['steps'][a] for x in pipes['rust']]):.2f}" if a else ""
            am = f"{median([x['step_peak_rss_mib'][a] for x in pipes['rust']]):.0f}" if a else ""
            bv = f"{median([x['steps'][b] for x in pipes['python']]):.2f}" if b else ""
            detail.append(f"| {a} | {av} | {am} | | {b} | {bv} |")
        detail.append("")
        detail.append("Every repetition (wall s / peak MiB): Rust " + ", ".join(
            f"{x['wall']:.2f}/{x['peak_rss_mib']:.0f}" for x in pipes["rust"]) + "; Python " + ", ".join(
            f"{x['wall']:.2f}/{x['peak_rss_mib']:.0f}" for x in pipes["python"]) + ".")
        detail.append(f"Held-out accuracy: Rust {pipes['rust'][-1]['accuracy'] or float('nan'):.4f}, Python {pipes['python'][-1]['accuracy']:.4f}; "
                      f"rows predicted: Rust {pipes['rust'][-1]['predicted_rows']:,}, Python {pipes['python'][-1]['predicted_rows']:,}.")
    detail += larger_runs(args)
    if api:
        detail.append("\nEvery API repetition (req/s, p50 ms, p99 ms): Rust " + "; ".join(
            f"{x['rps']:.0f}, {x['p50_ms']:.2f}, {x['p99_ms']:.2f}" for x in api["rust"]) + ". Python " + "; ".join(
            f"{x['rps']:.0f}, {x['p50_ms']:.2f}, {x['p99_ms']:.2f}" for x in api["python"]) + ". Non-2xx responses: "
            f"{sum(x['non_2xx'] for x in api['rust'])} (Rust), {sum(x['non_2xx'] for x in api['python'])} (Python).")
        detail.append(f"Both answer the benchmark penguin with: Rust `{api['answers'].get('rust', {}).get('prediction')}`, "
                      f"Python `{api['answers'].get('python', {}).get('prediction')}`.")
    if build:
        detail.append(f"\nCold build: {build['packages']} packages, peak RSS of the build {build['peak_rss_mib']:.0f} MiB; "
                      f"release binaries: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in build["binary_bytes"].items()) + ".")
    if venv:
        detail.append(f"pip: {venv['python']}, site-packages {venv['site_packages_bytes'] / 1e6:.0f} MB after install.")

    regression = regression_section(load(args, "regression"))

    text = f"""# Benchmark results

Generated by `make -C bench all` (bench/run.py) on {datetime.date.today().isoformat()}, from commit
`{project['commit'] if project else '?'}`. {reps} repetitions of each pipeline and API run, alternating
the two sides; medians. The machine was otherwise idle during the measured runs.

{chr(10).join(table)}

| target (issues 6 and 9; reported, not asserted) | measured | |
|---|---|---|
{chr(10).join(targets)}

Ratios are "how many times better the generated project is" (Python time / Rust time, Rust
throughput / Python throughput, ...). What each number measures, and what
each side does and does not do: [bench/README.md](README.md).
{chr(10).join(detail)}
{regression}
## Machine

{m['cpu']}, {m['nproc']} CPUs, {m['memory']} RAM, {m['kernel']}, {m['rustc']}.

```
{m['lscpu']}

{m['free']}
```

## Command

```sh
make -C bench all   # ROWS={args.rows} REPS={args.reps} API_SECONDS={args.api_seconds} CONCURRENCY={args.concurrency}
```
"""
    with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
        f.write(text)
    log("wrote bench/RESULTS.md")


# --- main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description="Rust template vs Python reference benchmark")
    parser.add_argument("command", choices=["project", "build", "venv", "data", "pipelines", "api", "regression",
                                            "report"])
    parser.add_argument("--work-dir", default=os.path.join(REPO, "target", "bench"))
    parser.add_argument("--cargo-target-dir", default=os.path.join(REPO, "target", "bench-cold"))
    parser.add_argument("--venv", default=os.path.join(REPO, "target", "bench-venv"))
    parser.add_argument("--cargo-generate", default=os.path.expanduser("~/.cargo/bin/cargo-generate"))
    parser.add_argument("--python", default="python3")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--api-seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--step-timeout", type=int, default=300)
    args = parser.parse_args()
    paths.current = paths(args)
    globals()["cmd_" + args.command](args)


if __name__ == "__main__":
    main()
