// A guided box-breathing timer (in 4, hold 4, out 4, hold 4), entirely in the browser.
// The page renders the elements; this only fills in their text and the circle's size. The phase
// is announced through an aria-live region; motion is skipped under prefers-reduced-motion.
(function () {
  "use strict";
  var PHASES = [
    { word: "Breathe in", scale: 1 },
    { word: "Hold", scale: 1 },
    { word: "Breathe out", scale: 0.55 },
    { word: "Hold", scale: 0.55 },
  ];
  var SECONDS = 4;
  var run = null; // { phase, left, round, rounds, timer }

  function el(id) { return document.getElementById(id); }
  function reduced() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }
  function setText(id, text) { var node = el(id); if (node) node.textContent = text; }

  function draw() {
    var circle = el("breath-circle");
    if (!run) return;
    var phase = PHASES[run.phase];
    setText("breath-count", String(run.left));
    setText("breath-round", "Round " + run.round + " of " + run.rounds);
    if (circle) {
      circle.style.transition = reduced() ? "none" : "transform " + SECONDS + "s linear";
      circle.style.transform = "scale(" + (reduced() ? 0.8 : phase.scale) + ")";
    }
    var root = el("breathing");
    if (root) root.setAttribute("data-phase", String(run.phase));
  }

  function announce() { if (run) setText("breath-phase", PHASES[run.phase].word); }

  function stopTimer() {
    if (run && run.timer) { clearInterval(run.timer); run.timer = null; }
  }

  function setButton(label) { setText("breath-toggle-label", label); }

  function finish() {
    stopTimer();
    setText("breath-phase", "Well done. Take a moment, then write a line if you like.");
    setText("breath-count", "");
    setButton("Start again");
    var root = el("breathing");
    if (root) root.setAttribute("data-state", "finished");
    run = null;
  }

  function tick() {
    if (!el("breathing")) { stopTimer(); run = null; return; } // the page was left
    run.left -= 1;
    if (run.left <= 0) {
      run.phase = (run.phase + 1) % PHASES.length;
      run.left = SECONDS;
      if (run.phase === 0) {
        run.round += 1;
        if (run.round > run.rounds) { finish(); return; }
      }
      announce();
    }
    draw();
  }

  function start() {
    var root = el("breathing");
    if (!root) return;
    if (!run) {
      var minutes = parseInt(root.getAttribute("data-minutes") || "4", 10) || 4;
      run = { phase: 0, left: SECONDS, round: 1, rounds: Math.max(1, Math.round((minutes * 60) / (SECONDS * 4))), timer: null };
    }
    root.setAttribute("data-state", "running");
    setButton("Pause");
    announce();
    draw();
    run.timer = setInterval(tick, 1000);
  }

  function pause() {
    stopTimer();
    setButton("Resume");
    setText("breath-phase", "Paused");
    var root = el("breathing");
    if (root) root.setAttribute("data-state", "paused");
  }

  window.kjBreathing = {
    toggle: function () { if (run && run.timer) pause(); else start(); },
    reset: function () {
      stopTimer();
      run = null;
      setButton("Start");
      setText("breath-phase", "Ready when you are.");
      setText("breath-count", "");
      setText("breath-round", "");
      var circle = el("breath-circle");
      if (circle) { circle.style.transition = "none"; circle.style.transform = "scale(0.55)"; }
      var root = el("breathing");
      if (root) root.setAttribute("data-state", "ready");
    },
  };
})();
