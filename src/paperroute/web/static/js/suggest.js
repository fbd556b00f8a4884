// The header search box's suggestions as an ARIA combobox (the listbox pattern of the WAI-ARIA
// Authoring Practices): htmx fills #search-suggest as the reader types; ArrowDown / ArrowUp
// move the active option (aria-activedescendant; focus stays in the box), Enter opens it,
// Escape closes the list (a second Escape clears the box). No inline script: CSP-safe.
(function () {
  "use strict";
  var input, box;

  function options() {
    return box ? Array.prototype.slice.call(box.querySelectorAll('[role="option"]')) : [];
  }
  function active() {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }
  function setActive(option) {
    options().forEach(function (item) {
      item.setAttribute("aria-selected", item === option ? "true" : "false");
      item.classList.toggle("is-active", item === option);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function open() {
    return input.getAttribute("aria-expanded") === "true";
  }
  function close() {
    setActive(null);
    if (box) box.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }
  function refreshed() {
    var listbox = box.querySelector('[role="listbox"]');
    box.hidden = !box.innerHTML.trim();
    input.setAttribute("aria-controls", listbox ? listbox.id : box.id);
    input.setAttribute("aria-expanded", listbox && !box.hidden ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
  }
  function move(step) {
    var all = options();
    if (!all.length) return;
    if (!open()) {
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    var index = all.indexOf(active());
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : (index + step + all.length) % all.length;
    setActive(all[next]);
  }
  // "All results for ..." on /search, where the box belongs to the page's form: the search
  // keeps the page's mode and filters, as Enter in the box does.
  function keepsFilters(link) {
    return link.classList.contains("suggest-all") && input.form && input.form !== input.closest("form");
  }
  function go(event, link) {
    event.preventDefault();
    if (keepsFilters(link)) input.form.requestSubmit();
    else window.location.assign(link.href);
  }
  function onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      var option = open() && active();
      var link = option && option.querySelector("a[href]");
      if (link) go(event, link);
    } else if (event.key === "Escape") {
      if (open()) {
        event.preventDefault();
        close();
      } else if (input.value) {
        input.value = "";
      }
    }
  }
  function init() {
    input = document.getElementById("site-search");
    box = document.getElementById("search-suggest");
    if (!input || !box) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("keydown", onKey);
    input.addEventListener("blur", function () {
      // Later than a click on an option, which must still find its link.
      window.setTimeout(function () { if (document.activeElement !== input) close(); }, 200);
    });
    box.addEventListener("mousedown", function (event) { event.preventDefault(); });
    box.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a.suggest-all") : null;
      if (link && keepsFilters(link)) go(event, link);
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target === box) refreshed();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
