// AI Gateway admin: copy buttons, the model whitelist filter and the live indicator. Every page
// works without this file; it only saves typing. Loaded from the page's own origin (the CSP
// allows no inline script), and bound once on document so htmx swaps need no re-binding.
(function () {
  "use strict";

  function flash(btn, text) {
    btn.textContent = text;
    setTimeout(function () { btn.textContent = "Copy"; }, 2000);
  }

  function copyBySelection(btn, el) {
    el.focus();
    el.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    flash(btn, ok ? "Copied" : "Press Ctrl+C");
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) { return; }
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) { return; }
    var text = "value" in el ? el.value : el.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { btn.setAttribute("data-copied", "true"); flash(btn, "Copied"); },
        function () { copyBySelection(btn, el); });
    } else {
      copyBySelection(btn, el);
    }
  });

  // The model filter hides the checkboxes whose model name does not contain what was typed.
  document.addEventListener("input", function (e) {
    var f = e.target.closest("[data-filter]");
    if (!f) { return; }
    var list = document.getElementById(f.getAttribute("data-filter"));
    if (!list) { return; }
    var q = f.value.trim().toLowerCase();
    list.querySelectorAll("[data-option]").forEach(function (o) {
      o.hidden = q !== "" && o.getAttribute("data-option").toLowerCase().indexOf(q) < 0;
    });
  });

  // Enter in the filter filters; it must not submit the client form.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.closest("[data-filter]")) { e.preventDefault(); }
  });

  function live(on) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      el.classList.toggle("on", on);
      el.classList.toggle("off", !on);
      el.textContent = on ? "live" : "offline";
    });
  }
  document.addEventListener("htmx:wsOpen", function () { live(true); });
  document.addEventListener("htmx:wsClose", function () { live(false); });
})();
