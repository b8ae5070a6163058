/* Amane console: live queue (server-sent events), sound and browser notification
   with an on/off switch, live conversation on a case, canned replies.
   No inline script anywhere: the Content-Security-Policy forbids it. */
(function () {
  "use strict";

  var ALERTS_KEY = "amane-alerts";
  var ARRIVALS = ["created", "routed", "urgent", "transferred", "escalated"];

  function alertsOn() {
    return window.localStorage.getItem(ALERTS_KEY) !== "off";
  }

  function beep() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) { return; }
      var context = new Context();
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.frequency.value = 880;
      gain.gain.value = 0.08;
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.25);
    } catch (error) { /* no sound: the row still appears */ }
  }

  function notify(text) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try { new Notification(text, { tag: "amane-queue" }); } catch (error) { /* ignore */ }
  }

  function listen(url, onCase) {
    if (!window.EventSource) { return null; }
    var source = new EventSource(url);
    var live = document.getElementById("live");
    source.addEventListener("open", function () { if (live) { live.hidden = false; } });
    source.addEventListener("error", function () { if (live) { live.hidden = true; } });
    source.addEventListener("case", function (event) {
      var notice;
      try { notice = JSON.parse(event.data); } catch (error) { return; }
      onCase(notice);
    });
    return source;
  }

  function setupQueue(queue) {
    var rows = document.getElementById("queue-rows");
    var toggle = document.getElementById("alerts");
    function showToggle() {
      var on = alertsOn();
      toggle.textContent = on ? toggle.dataset.on : toggle.dataset.off;
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
    }
    toggle.addEventListener("click", function () {
      var on = !alertsOn();
      window.localStorage.setItem(ALERTS_KEY, on ? "on" : "off");
      if (on && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
      showToggle();
    });
    showToggle();
    function refresh() {
      return fetch(queue.dataset.rowsUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected || !response.ok) { window.location.reload(); return null; }
          return response.text();
        })
        .then(function (html) { if (html !== null) { rows.innerHTML = html; } });
    }
    listen(queue.dataset.eventsUrl, function (notice) {
      refresh().then(function () {
        if (ARRIVALS.indexOf(notice.kind) >= 0 && alertsOn()) {
          beep();
          notify(queue.dataset.alertText + " " + notice.reference);
        }
      });
    });
    window.setInterval(refresh, 60000); /* waiting times and time left move on */
  }

  function setupCase(page) {
    var reference = page.dataset.reference;
    listen(page.dataset.eventsUrl, function (notice) {
      if (notice.reference !== reference || notice.kind !== "message") { return; }
      fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var messages = fresh.getElementById("messages");
          if (messages) { document.getElementById("messages").innerHTML = messages.innerHTML; }
        });
    });
    var box = document.getElementById("reply-text");
    Array.prototype.forEach.call(document.querySelectorAll(".use-canned"), function (button) {
      button.addEventListener("click", function () {
        if (!box) { return; }
        box.value = button.dataset.text;
        box.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.getElementById("queue");
    if (queue) { setupQueue(queue); }
    var page = document.getElementById("case");
    if (page) { setupCase(page); }
  });
})();
