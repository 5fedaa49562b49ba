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

  // The client form shows the fields of the chosen backend: its base URL default (or that it
  // needs one), the Azure API version only for azure, the Responses API mode only for the backends
  // that have one (data-only-backend lists them). Without JavaScript the server does the
  // same when the form comes back.
  document.addEventListener("change", function (e) {
    var sel = e.target.closest("select#backend");
    if (!sel) { return; }
    var opt = sel.options[sel.selectedIndex];
    var url = document.getElementById("base_url");
    if (url && opt) { url.placeholder = opt.getAttribute("data-default") || ""; }
    var note = document.querySelector('[data-testid="base-url-note"]');
    if (note && opt) { note.textContent = opt.getAttribute("data-note") || ""; }
    document.querySelectorAll("[data-only-backend]").forEach(function (el) {
      var input = el.querySelector("input");
      var only = el.getAttribute("data-only-backend").split(" ");
      el.hidden = only.indexOf(sel.value) < 0 && !(input && input.value);
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
  // The request history's first page: when the socket says the log has a row newer than the top
  // one shown, fetch the newer rows (with the page's filters) and put them on top.
  var fetchingRows = false;
  function newRows() {
    var wrap = document.querySelector("[data-live-rows]");
    var head = document.getElementById("log-head");
    var body = document.getElementById("request-rows");
    if (!wrap || !head || !body || fetchingRows) { return; }
    var top = body.querySelector("[data-request-id]");
    var after = top ? top.getAttribute("data-request-id") : "0";
    if (Number(head.getAttribute("data-newest")) <= Number(after)) { return; }
    fetchingRows = true;
    var url = wrap.getAttribute("data-live-rows");
    url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after);
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (!html || !document.body.contains(body)) { return; }
      var t = document.createElement("template");
      t.innerHTML = "<table><tbody>" + html + "</tbody></table>";
      var rows = t.content.querySelectorAll("tr");
      for (var i = rows.length - 1; i >= 0; i--) {
        rows[i].classList.add("fresh");
        body.insertBefore(rows[i], body.firstChild);
      }
      var total = document.getElementById("requests-total");
      if (total && rows.length) {
        var n = Number(total.textContent.replace(/\D/g, "")) + rows.length;
        total.textContent = n.toLocaleString("en-US");
      }
      if (window.htmx) { window.htmx.process(body); }
    }).finally(function () { fetchingRows = false; });
  }
  document.addEventListener("htmx:wsAfterMessage", newRows);

  document.addEventListener("htmx:wsOpen", function () { live(true); });
  document.addEventListener("htmx:wsClose", function () { live(false); });
})();
