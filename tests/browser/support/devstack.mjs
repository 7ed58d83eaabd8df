// A private devstack (PostgreSQL, NATS, the five daemons and the gateway) on
// free ports, with its data folder under the build folder. Stopped with SIGINT,
// as a person stops `make run`.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, rmSync, createWriteStream } from "node:fs";
import path from "node:path";

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const kServices = ["AUTH", "TASKS", "BILLING", "ANALYTICS", "SCHEDULER", "GATEWAY"];

async function portKnobs() {
  const env = { ATES_RUN_PG_PORT: await freePort(), ATES_RUN_NATS_PORT: await freePort() };
  for (const svc of kServices) {
    env[`ATES_RUN_${svc}_PORT`] = await freePort();
    env[`ATES_RUN_${svc}_METRICS_PORT`] = await freePort();
  }
  env.ATES_RUN_GATEWAY_GRPC_PORT = await freePort();
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function waitForLine(child, pattern, timeoutMs, logPath) {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`devstack not ready in ${timeoutMs} ms; log: ${logPath}`)), timeoutMs);
    const onData = (chunk) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stderr.off("data", onData);
        resolve(match);
      }
    };
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devstack exited with ${code} before it was ready; log: ${logPath}`));
    });
  });
}

/** Starts the stack; resolves once it printed the web app's address. */
export async function startDevstack({ buildDir, sourceDir, adminPassword }) {
  const runDir = path.join(buildDir, "browser-run");
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const logPath = path.join(buildDir, "browser-devstack.log");
  const env = {
    ...process.env, ...(await portKnobs()),
    ATES_RUN_DIR: runDir, ATES_RUN_WEB_ROOT: path.join(sourceDir, "web", "dist"),
    ATES_RUN_STOP_TIMEOUT: "5", ATES_ADMIN_LOGIN: "admin", ATES_ADMIN_PASSWORD: adminPassword,
  };
  const child = spawn(path.join(buildDir, "bin", "ates-devstack"), [buildDir], {
    cwd: sourceDir, env, stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logPath);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const stop = () => stopDevstack(child);
  // If this runner is stopped (ctest's timeout, Ctrl-C), the stack goes too.
  const onExit = () => child.exitCode === null && child.kill("SIGINT");
  process.once("exit", onExit);
  for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => { onExit(); process.exit(1); });
  try {
    const match = await waitForLine(child, /Web app:\s+(http:\/\/\S+?)\/?\s/, 90_000, logPath);
    await waitForPage(match[1]);
    return { url: match[1], stop, logPath };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForPage(url) {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not serve the web app`);
}

function stopDevstack(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGINT");
  });
}
