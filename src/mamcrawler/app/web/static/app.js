// The dashboard's only script: re-fetch the live part, and the start/stop/sync buttons,
// every request carrying the API key in the X-Api-Key header (never in a cookie).
(function () {
  "use strict";
  const key = document.querySelector('meta[name="mamcrawler-key"]').content;
  const every = 1000 * Number(document.querySelector('meta[name="mamcrawler-refresh"]').content || 5);
  const live = document.getElementById("live");
  const result = document.getElementById("control-result");
  const stamp = document.getElementById("refreshed");
  const headers = { "X-Api-Key": key };
  if (window.history && location.search.includes("apikey=")) {
    history.replaceState(null, "", location.pathname); // keep the key out of the address bar
  }
  async function refresh() {
    try {
      const answer = await fetch("/dashboard/live", { headers: headers, cache: "no-store" });
      if (answer.ok) {
        live.innerHTML = await answer.text();
        stamp.textContent = "updated " + new Date().toLocaleTimeString();
      } else {
        stamp.textContent = "update refused (" + answer.status + ")";
      }
    } catch (err) {
      stamp.textContent = "mamcrawler is not answering";
    }
  }
  async function post(path, question) {
    if (question && !window.confirm(question)) { return; }
    const answer = await fetch(path, { method: "POST", headers: headers });
    const body = await answer.json().catch(() => ({}));
    const said = body.autonomous === true ? "Autopilot started" : body.autonomous === false ? "Autopilot stopped" : "";
    result.textContent = answer.ok ? (body.message || said || "done") : ("refused: " + (body.message || body.detail || answer.status));
    await refresh();
  }
  document.getElementById("stop").addEventListener("click", () =>
    post("/api/system/autonomous/stop", "Stop the autopilot? Cycles will only plan (dry run) until you start it again."));
  document.getElementById("start").addEventListener("click", () =>
    post("/api/system/autonomous/start", "Start the autopilot? Cycles will act (download, buy, seed) again."));
  document.getElementById("sync").addEventListener("click", () => post("/api/system/sync-now", null));
  setInterval(refresh, every);
})();
