// browser.js - drive headless Chromium over the DevTools protocol on a
// pipe (--remote-debugging-pipe: no extra package needed): open URL, print
// the text of its element #out every 0.25 s until it reports that the
// video played SECONDS of media (or 60 s pass), then save a screenshot.
//
//   node browser.js CHROMIUM PROFILE_DIR URL SECONDS SHOT.png
//
// The page writes "... first=T0 currentTime=T ..." into #out; exit 0 once
// T - T0 >= SECONDS, 1 otherwise.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const [chrome, profile, url, secs, shot] = process.argv.slice(2);
const flags = ["--headless", "--no-sandbox", "--disable-gpu",
	"--disable-quic", "--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
	"--autoplay-policy=no-user-gesture-required",
	"--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank"];
const p = spawn(chrome, flags, { stdio: ["ignore", "ignore", "inherit",
	"pipe", "pipe"] });
const tx = p.stdio[3], rx = p.stdio[4];
let next = 0, buf = "";
const waiting = {};
rx.on("data", (d) => {
	buf += d;
	let i;
	while ((i = buf.indexOf("\0")) >= 0) {
		const m = JSON.parse(buf.slice(0, i));
		buf = buf.slice(i + 1);
		if (m.id !== undefined && waiting[m.id]) {
			waiting[m.id](m);
			delete waiting[m.id];
		}
	}
});
function send(method, params, session) {
	return new Promise((resolve, reject) => {
		const m = { id: ++next, method: method, params: params || {} };
		if (session) m.sessionId = session;
		waiting[m.id] = (r) => r.error ?
		    reject(new Error(method + ": " + r.error.message)) : resolve(r.result);
		tx.write(JSON.stringify(m) + "\0");
	});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function main() {
	const t = await send("Target.createTarget", { url: "about:blank" });
	const a = await send("Target.attachToTarget", { targetId: t.targetId,
	    flatten: true });
	const s = a.sessionId;
	await send("Page.enable", {}, s);
	await send("Emulation.setDeviceMetricsOverride", { width: 640,
	    height: 520, deviceScaleFactor: 1, mobile: false }, s);
	await send("Page.navigate", { url: url }, s);
	let ok = false, text = "";
	for (let i = 0; i < 240 && !ok; i++) {
		await sleep(250);
		const r = await send("Runtime.evaluate", { expression:
		    "(document.getElementById('out') || {}).textContent || ''" }, s);
		text = String(r.result.value);
		const f = /first=(-?[0-9.]+) currentTime=([0-9.]+)/.exec(text);
		ok = f !== null && +f[1] >= 0 && +f[2] - +f[1] >= +secs;
		if (i % 4 === 0 || ok)
			console.log(text);
	}
	const png = await send("Page.captureScreenshot", { format: "png" }, s);
	fs.writeFileSync(shot, Buffer.from(png.data, "base64"));
	await send("Browser.close").catch(() => {});
	return ok;
}
const kill = setTimeout(() => { p.kill("SIGKILL"); process.exit(1); }, 90000);
main().then((ok) => {
	clearTimeout(kill);
	p.kill();
	process.exit(ok ? 0 : 1);
}, (e) => {
	console.error("browser.js: " + e.message);
	p.kill("SIGKILL");
	process.exit(1);
});
