/* SPDX-License-Identifier: GPL-2.0-only
 *
 * The ui suite's browser test: Debian's chromium, driven by puppeteer-core
 * over the DevTools protocol, against the Cockpit of the container that
 * tests/ui/run-ui boots (which sets the UI_* environment). Through the
 * real login page:
 *
 *   administrator  switches on administrative access (the shell's dialog,
 *                  sudo), tracks the workload by PID from the page, sees
 *                  its row and its rate within 10 % of the truth (5 % for
 *                  an exact backend), the ± of a sampled backend, live
 *                  updates and the plot; sorts and filters; gets readable
 *                  errors for a bad and an unknown PID; untracks the
 *                  workload and sees the row go;
 *   unprivileged   sees the table, and polkit's refusal in words when it
 *                  tries to track or untrack;
 *   ReadAccess=owner (dirtyrated restarted with it): both pages follow the
 *                  daemon to its new bus name; the unprivileged user sees
 *                  none of the other users' processes and a note that says
 *                  why; the administrator still sees them, live (the page
 *                  reads them once per pass, there being no signals).
 *
 * Screenshots go to UI_SCREENSHOT_DIR. Any uncaught error in the page fails
 * the test. Exit status 0 = passed.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

function env(name) {
    const v = process.env[name];
    if (!v) {
        console.error(`ui-test: ${name} is not set; run this through tests/ui/run-ui`);
        process.exit(2);
    }
    return v;
}

const puppeteer = createRequire(path.join(env("UI_NODE_MODULES"), "index.js"))("puppeteer-core");

const URL = env("UI_URL");
const SHOTS = env("UI_SCREENSHOT_DIR");
const WORKLOAD_PID = Number(env("UI_WORKLOAD_PID"));
const BACKGROUND_PID = Number(env("UI_BACKGROUND_PID"));
const WORKLOAD_BPS = Number(env("UI_WORKLOAD_BPS"));
const BACKGROUND_BPS = Number(env("UI_BACKGROUND_BPS"));

/* Avg10 is read once the workload has been tracked this long. */
const SETTLE_MS = 15000;
const STEP_TIMEOUT = 30000;
const TEST_DEADLINE = 300000;

const log = (...args) => console.log("ui-test:", ...args);

class Failure extends Error {}
function check(condition, message) {
    if (!condition)
        throw new Failure(message);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/* A wait that times out is a failure that says what did not happen. */
async function expect(what, promise) {
    try {
        return await promise;
    } catch (error) {
        if (error.name === "TimeoutError")
            throw new Failure(`${what}, but that did not happen in time (${error.message})`);
        throw error;
    }
}

const pageErrors = [];
let current = null;     /* the page a failure's screenshot shows */
let step = "start";

async function screenshot(page, name) {
    const file = path.join(SHOTS, name);
    await page.screenshot({ path: file });
    log(`screenshot ${file}`);
    return file;
}

/* Through Cockpit's login page, straight to our page. */
async function login(browser, user, password) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    current = page;
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on("pageerror", error => pageErrors.push(`${user}: ${error.message}`));
    await page.goto(`${URL}/dirtyrate`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#login-user-input", { visible: true });
    await page.type("#login-user-input", user);
    await page.type("#login-password-input", password);
    await Promise.all([
        page.waitForNavigation({ waitUntil: "domcontentloaded" }),
        page.click("#login-button"),
    ]);
    const handle = await page.waitForSelector('iframe[name="cockpit1:localhost/dirtyrate"]');
    const frame = await handle.contentFrame();
    await expect("the page should connect to dirtyrated",
                 frame.waitForFunction(() => document.documentElement.dataset.connection === "content"));
    log(`${user} logged in through ${URL}/ and has the dirtyrate page`);
    return { context, page, frame, handle };
}

async function accessIndicator(page) {
    const button = await page.waitForSelector("#super-user-indicator button");
    return [button, (await button.evaluate(e => e.textContent)).trim()];
}

/* Cockpit's "administrative access": the shell's own dialog asks the
 * password for sudo. The page then reconnects through the root bridge. */
async function ensureAdministrativeAccess(page, frame, password) {
    const [button, text] = await accessIndicator(page);
    if (text === "Limited access") {
        await button.click();
        const input = await page.waitForSelector(".pf-c-modal-box input[type=password]", { visible: true });
        await input.type(password);
        await page.locator(".pf-c-modal-box footer button.pf-m-primary").click();
        await page.waitForSelector(".pf-c-modal-box", { hidden: true });
        await page.waitForFunction(
            () => document.querySelector("#super-user-indicator").textContent.includes("Administrative access"));
        log("administrative access switched on (the shell's dialog, sudo)");
    } else {
        check(text === "Administrative access", `unexpected access indicator "${text}"`);
        log("administrative access was already on");
    }
    await expect("the page should reconnect through the administrative bridge",
                 frame.waitForFunction(() => document.documentElement.dataset.clientAccess === "administrative" &&
                                       document.documentElement.dataset.connection === "content"));
}

const rowSelector = pid => `#dr-table-body tr[data-pid="${pid}"]`;

async function cellText(frame, pid, key) {
    return frame.$eval(`${rowSelector(pid)} td[data-key="${key}"]`, td => td.innerText.replace(/\s+/g, " ").trim());
}

const UNITS = { "B/s": 1, "KiB/s": 1024, "MiB/s": 1024 ** 2, "GiB/s": 1024 ** 3 };
function parseRate(text) {
    const m = /^([0-9.]+) (B\/s|KiB\/s|MiB\/s|GiB\/s)(?: ±([0-9.]+))?$/.exec(text);
    check(m, `"${text}" does not read as a rate`);
    return { value: Number(m[1]) * UNITS[m[2]], se: m[3] === undefined ? null : Number(m[3]) * UNITS[m[2]] };
}

async function visiblePids(frame) {
    return frame.$$eval("#dr-table-body tr", rows => rows.map(r => Number(r.dataset.pid)));
}

async function actionAlert(frame) {
    await frame.waitForSelector('#dr-action-alert [data-alert="action-error"]', { visible: true });
    return frame.$eval('#dr-action-alert [data-alert="action-error"]', e => ({
        title: e.querySelector(".pf-c-alert__title").innerText.replace(/^\w+ alert:\s*/, "").trim(),
        text: e.querySelector(".pf-c-alert__description").innerText.trim(),
    }));
}

async function closeActionAlert(frame) {
    await frame.locator('#dr-action-alert [data-alert="action-error"] .pf-c-alert__action button').click();
    await frame.waitForSelector('#dr-action-alert [data-alert="action-error"]', { hidden: true });
}

/* Plain words: no JavaScript error class, no stack frame. */
function checkReadable(what, alert) {
    const all = `${alert.title}\n${alert.text}`;
    check(!/\bat .*\.js:\d+|TypeError|ReferenceError|\[object Object\]|undefined/.test(all),
          `${what} is not a readable message: ${JSON.stringify(alert)}`);
}

async function administrator(browser) {
    step = "administrator: login";
    const { page, frame, handle } = await login(browser, env("UI_ADMIN"), env("UI_ADMIN_PASSWORD"));
    step = "administrator: administrative access";
    await ensureAdministrativeAccess(page, frame, env("UI_ADMIN_PASSWORD"));

    step = "administrator: service status";
    const backend = (await frame.$eval("#dr-backend", e => e.innerText)).trim();
    const features = (await frame.$eval("#dr-features", e => e.innerText)).replace(/\s+/g, " ").trim();
    const version = (await frame.$eval("#dr-version", e => e.innerText)).trim();
    const interval = (await frame.$eval("#dr-interval", e => e.innerText)).trim();
    log(`service card: version ${version}, backend ${backend}, features "${features}", interval ${interval}`);
    check(backend === env("UI_BACKEND"), `the page shows backend "${backend}", dirtyrated has "${env("UI_BACKEND")}"`);
    check(/^\d+\.\d+\.\d+/.test(version), `version "${version}"`);
    check(interval === "1 s", `sample interval "${interval}", expected "1 s" (the default)`);
    const warnings = await warningTitles(frame);
    log(`service warnings: ${JSON.stringify(warnings)}`);
    if (backend === "page-sampling")
        check(warnings.some(w => /No soft-dirty tracking/.test(w)),
              "page-sampling without soft-dirty, but no warning explains it");

    step = "administrator: the background workload's row (tracked by a [Track] rule)";
    await expect("the background workload's row should show",
                 frame.waitForSelector(rowSelector(BACKGROUND_PID), { visible: true }));

    step = "administrator: an invalid PID";
    await frame.type("#dr-track-pid", "12x");
    await frame.locator("#dr-track-button").click();
    let alert = await actionAlert(frame);
    log(`"12x": ${alert.title}: ${alert.text}`);
    check(/Not a process ID/.test(alert.title), `"12x" gave "${alert.title}"`);
    await closeActionAlert(frame);
    await frame.$eval("#dr-track-pid", e => { e.value = ""; });

    step = "administrator: a PID that does not exist";
    await frame.type("#dr-track-pid", "4194000");
    await frame.locator("#dr-track-button").click();
    alert = await actionAlert(frame);
    log(`4194000: ${alert.title}: ${alert.text}`);
    check(/There is no process with PID 4194000/.test(alert.text), `an unknown PID gave "${alert.text}"`);
    checkReadable("the unknown PID's error", alert);
    await closeActionAlert(frame);
    await frame.$eval("#dr-track-pid", e => { e.value = ""; });

    step = "administrator: Track";
    await frame.type("#dr-track-pid", String(WORKLOAD_PID));
    await frame.locator("#dr-track-button").click();
    await expect(`Track should add the row of pid ${WORKLOAD_PID}`,
                 frame.waitForSelector(rowSelector(WORKLOAD_PID), { visible: true }));
    const trackedAt = Date.now();
    check(await frame.$('#dr-action-alert [data-alert="action-error"]') === null,
          "Track showed an error although administrative access is on");
    log(`Track: the row of pid ${WORKLOAD_PID} appeared (${await cellText(frame, WORKLOAD_PID, "comm")}, ` +
        `${await cellText(frame, WORKLOAD_PID, "unit")})`);

    step = "administrator: live updates and the plot";
    await frame.locator(`${rowSelector(WORKLOAD_PID)} td[data-key="pid"]`).click();
    await frame.waitForSelector("#dr-detail-body", { visible: true });
    const lastPass = () => frame.$eval("#dr-detail-list", e => e.innerText.match(/Last pass\s*(.*)/)[1].trim());
    const before = await lastPass();
    await expect(`"Last pass" (${before}) should change with the next pass's PropertiesChanged`,
                 frame.waitForFunction(b => !document.getElementById("dr-detail-list").innerText.includes(b),
                                       { timeout: 5000 }, before));
    log(`live: "Last pass" went from ${before} to ${await lastPass()} without a reload`);

    step = "administrator: the workload's rate";
    await sleep(Math.max(0, trackedAt + SETTLE_MS - Date.now()));
    const rowBackend = await cellText(frame, WORKLOAD_PID, "backend");
    const exact = rowBackend === "pagemap-ioctl" || rowBackend === "clear-refs";
    const tolerance = exact ? 5 : 10;
    const avg10Text = await cellText(frame, WORKLOAD_PID, "avg10");
    const rateText = await cellText(frame, WORKLOAD_PID, "rate");
    const avg10 = parseRate(avg10Text);
    const deviation = (avg10.value / WORKLOAD_BPS - 1) * 100;
    log(`rate: pid ${WORKLOAD_PID} (${rowBackend}) shows Avg10 "${avg10Text}" = ${Math.round(avg10.value)} B/s ` +
        `after ${((Date.now() - trackedAt) / 1000).toFixed(1)} s, truth ${WORKLOAD_BPS} B/s: ` +
        `${deviation >= 0 ? "+" : ""}${deviation.toFixed(2)} % (tolerance ${tolerance} %); last interval "${rateText}"`);
    check(Math.abs(deviation) <= tolerance,
          `Avg10 ${avg10Text} is ${deviation.toFixed(2)} % off the truth ${WORKLOAD_BPS} B/s (tolerance ${tolerance} %)`);
    if (rowBackend === "page-sampling")
        check(avg10.se !== null && avg10.se > 0, `a sampled rate without its ±: "${avg10Text}"`);
    const points = Number(await frame.$eval("#dr-plot", e => e.dataset.points));
    const polylines = await frame.$$eval("#dr-plot polyline.dr-line-rate", l => l.length);
    log(`plot: ${points} passes drawn in ${polylines} line(s)`);
    check(points >= 10 && polylines >= 1, `the plot has ${points} points in ${polylines} lines after ${SETTLE_MS / 1000} s`);
    await screenshot(page, "admin-tracking.png");
    await handle.screenshot({ path: path.join(SHOTS, "admin-tracking-page.png") });
    log(`screenshot ${path.join(SHOTS, "admin-tracking-page.png")}`);

    step = "administrator: sorting";
    const sortBy = async key => frame.locator(`#dr-table-head th[data-key="${key}"] button`).click();
    await sortBy("avg10");     /* a new column: numbers biggest first */
    check(JSON.stringify(await visiblePids(frame)) === JSON.stringify([WORKLOAD_PID, BACKGROUND_PID]),
          `Avg10 descending: ${await visiblePids(frame)}`);
    check(await frame.$eval('#dr-table-head th[data-key="avg10"]', e => e.getAttribute("aria-sort")) === "descending",
          "Avg10's header does not say descending");
    await sortBy("avg10");
    check(JSON.stringify(await visiblePids(frame)) === JSON.stringify([BACKGROUND_PID, WORKLOAD_PID]),
          `Avg10 ascending: ${await visiblePids(frame)}`);
    await sortBy("pid");
    const ascending = [WORKLOAD_PID, BACKGROUND_PID].sort((a, b) => a - b);
    check(JSON.stringify(await visiblePids(frame)) === JSON.stringify(ascending), `PID ascending: ${await visiblePids(frame)}`);
    await sortBy("unit");
    check(JSON.stringify(await visiblePids(frame)) === JSON.stringify([BACKGROUND_PID, WORKLOAD_PID]),
          `Unit ascending (…-background before …-workload): ${await visiblePids(frame)}`);
    log("sorting: Avg10 both ways, PID and Unit ascending, as expected");

    step = "administrator: filtering";
    await frame.type("#dr-filter", "background");
    await frame.waitForFunction(p => [...document.querySelectorAll("#dr-table-body tr")].map(r => r.dataset.pid).join() === String(p),
                                {}, BACKGROUND_PID);
    const count = (await frame.$eval("#dr-count", e => e.innerText)).trim();
    check(count === "1 of 2 shown", `the filter's count says "${count}"`);
    await frame.$eval("#dr-filter", e => { e.value = ""; });
    await frame.type("#dr-filter", "no-such-process");
    await frame.waitForSelector("#dr-empty", { visible: true });
    const empty = (await frame.$eval("#dr-empty-title", e => e.innerText)).trim();
    check(/No tracked process matches/.test(empty), `empty state "${empty}"`);
    await frame.locator("#dr-clear-filter").click();
    await frame.waitForFunction(() => document.querySelectorAll("#dr-table-body tr").length === 2);
    log(`filtering: "background" leaves 1 of 2, a miss shows "${empty}", Clear filter brings both back`);

    step = "administrator: Untrack";
    await frame.locator(`${rowSelector(WORKLOAD_PID)} button.dr-untrack`).click();
    await expect(`Untrack should remove the row of pid ${WORKLOAD_PID}`,
                 frame.waitForSelector(rowSelector(WORKLOAD_PID), { hidden: true, timeout: 10000 }));
    await expect("Tracked processes should go down to 1",
                 frame.waitForFunction(() => document.getElementById("dr-tracked").innerText.trim() === "1", { timeout: 5000 }));
    check(await frame.$('#dr-action-alert [data-alert="action-error"]') === null, "Untrack showed an error");
    log(`Untrack: the row of pid ${WORKLOAD_PID} went, Tracked processes is 1`);
    await screenshot(page, "admin-untracked.png");
    return { page, frame };
}

async function unprivileged(browser) {
    step = "unprivileged: login";
    const { page, frame } = await login(browser, env("UI_VIEWER"), env("UI_VIEWER_PASSWORD"));
    const [, access] = await accessIndicator(page);
    check(access === "Limited access", `the unprivileged user's shell says "${access}"`);
    await frame.waitForSelector(rowSelector(BACKGROUND_PID), { visible: true });
    const bg = parseRate(await cellText(frame, BACKGROUND_PID, "avg10"));
    log(`unprivileged: reads the table (background workload Avg10 ${Math.round(bg.value)} B/s, truth ${BACKGROUND_BPS} B/s)`);

    step = "unprivileged: Track is refused";
    await frame.type("#dr-track-pid", String(WORKLOAD_PID));
    await frame.locator("#dr-track-button").click();
    let alert = await actionAlert(frame);
    log(`denial on Track: "${alert.title}": ${alert.text.replace(/\n+/g, " / ")}`);
    check(alert.title === `Could not track PID ${WORKLOAD_PID}`, `Track's alert title "${alert.title}"`);
    check(/not allowed to change which processes dirtyrated tracks/.test(alert.text) && /org\.dirtyrate1\.manage/.test(alert.text),
          `Track's refusal is not explained: "${alert.text}"`);
    checkReadable("Track's refusal", alert);
    check(await frame.$(rowSelector(WORKLOAD_PID)) === null, "the refused Track added a row");
    await screenshot(page, "viewer-denied.png");
    await closeActionAlert(frame);

    step = "unprivileged: Untrack is refused";
    await frame.locator(`${rowSelector(BACKGROUND_PID)} button.dr-untrack`).click();
    alert = await actionAlert(frame);
    log(`denial on Untrack: "${alert.title}": ${alert.text.replace(/\n+/g, " / ")}`);
    check(alert.title === `Could not untrack PID ${BACKGROUND_PID}`, `Untrack's alert title "${alert.title}"`);
    check(/not allowed to change which processes dirtyrated tracks/.test(alert.text),
          `Untrack's refusal is not explained: "${alert.text}"`);
    checkReadable("Untrack's refusal", alert);
    await sleep(1500);  /* a pass or so: the row must stay */
    check(await frame.$(rowSelector(BACKGROUND_PID)) !== null, "the refused Untrack removed the row");
    log("unprivileged: both refusals shown in words; the table is unchanged");
    return { page, frame };
}

async function warningTitles(frame) {
    return frame.$$eval("#dr-warnings .pf-c-alert__title", a => a.map(e => e.lastChild.textContent.trim()));
}

async function ownerMode(admin, viewer) {
    step = "ReadAccess=owner: restart dirtyrated with it";
    const share = env("UI_SHARE_DIR");
    fs.writeFileSync(path.join(share, "owner-mode.request"), "");
    const deadline = Date.now() + STEP_TIMEOUT;
    while (!fs.existsSync(path.join(share, "owner-mode.done"))) {
        check(!fs.existsSync(path.join(share, "owner-mode.failed")), "the guest could not restart dirtyrated with ReadAccess=owner");
        check(Date.now() < deadline, "the guest did not restart dirtyrated with ReadAccess=owner in time");
        await sleep(100);
    }

    step = "ReadAccess=owner: the unprivileged user";
    current = viewer.page;
    /* A page in a background tab gets no animation frames, which clicks wait for. */
    await viewer.page.bringToFront();
    await expect("the service card should say ReadAccess=owner",
                 viewer.frame.waitForFunction(() => document.getElementById("dr-read-access").innerText.includes("ReadAccess=owner")));
    await expect("the unprivileged user's table should empty",
                 viewer.frame.waitForSelector("#dr-empty", { visible: true }));
    const empty = (await viewer.frame.$eval("#dr-empty-title", e => e.innerText)).trim();
    const notes = await warningTitles(viewer.frame);
    log(`owner mode, unprivileged: the table is empty ("${empty}"), notes ${JSON.stringify(notes)}`);
    check(empty === "No process is tracked", `the unprivileged user's empty table says "${empty}"`);
    check(notes.includes("You see only your own processes"), "no note says the user sees only their own processes");
    await screenshot(viewer.page, "viewer-owner-mode.png");

    step = "ReadAccess=owner: the administrator";
    current = admin.page;
    await admin.page.bringToFront();
    const frame = admin.frame;
    await expect("the administrator's service card should say ReadAccess=owner",
                 frame.waitForFunction(() => document.getElementById("dr-read-access").innerText.includes("ReadAccess=owner")));
    await expect("the administrator should still see the background workload",
                 frame.waitForSelector(rowSelector(BACKGROUND_PID), { visible: true }));
    check(!(await warningTitles(frame)).includes("You see only your own processes"),
          "the administrator is told they see only their own processes");
    await frame.locator(`${rowSelector(BACKGROUND_PID)} td[data-key="pid"]`).click();
    await frame.waitForSelector("#dr-detail-body", { visible: true });
    const lastPass = () => frame.$eval("#dr-detail-list", e => e.innerText.match(/Last pass\s*(.*)/)[1].trim());
    const before = await lastPass();
    await expect(`in owner mode too, "Last pass" (${before}) should change with the next pass`,
                 frame.waitForFunction(b => !document.getElementById("dr-detail-list").innerText.includes(b),
                                       { timeout: 5000 }, before));
    log(`owner mode, administrator: after the restart sees pid ${BACKGROUND_PID} again, live ("Last pass" ${before} -> ${await lastPass()})`);
}

async function main() {
    fs.mkdirSync(SHOTS, { recursive: true });
    const browser = await puppeteer.launch({
        executablePath: env("UI_CHROMIUM"),
        headless: true,
        /* As root (the suite runs as root) chromium needs --no-sandbox. */
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        defaultViewport: { width: 1280, height: 1500 },
    });
    log(`browser: ${await browser.version()} (puppeteer-core ${require(path.join(env("UI_NODE_MODULES"), "puppeteer-core", "package.json")).version})`);
    try {
        const admin = await administrator(browser);
        const viewer = await unprivileged(browser);
        await ownerMode(admin, viewer);
        check(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join("; ")}`);
        log("PASSED");
    } catch (error) {
        log(`FAIL [${step}]: ${error instanceof Failure ? error.message : error.stack}`);
        if (pageErrors.length)
            log(`uncaught errors in the page: ${pageErrors.join("; ")}`);
        if (current) {
            try {
                await screenshot(current, "failure.png");
                const handle = await current.$('iframe[name="cockpit1:localhost/dirtyrate"]');
                const frame = handle && await handle.contentFrame();
                if (frame)
                    log("the page said:\n" + await frame.$eval("body", b => b.innerText));
            } catch (e) {
                log(`(no screenshot of the failure: ${e.message})`);
            }
        }
        process.exitCode = 1;
    } finally {
        await browser.close();
    }
}

setTimeout(() => {
    log(`FAIL [${step}]: the test did not finish within ${TEST_DEADLINE / 1000} s`);
    process.exit(1);
}, TEST_DEADLINE).unref();

main().then(() => process.exit(process.exitCode || 0));
