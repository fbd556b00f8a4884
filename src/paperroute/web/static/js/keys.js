// Keyboard shortcuts and the theme switch. "/" focuses search, "j" / "k" move between the
// cards of a list, "?" shows the keys (Escape closes the dialog); never while typing in a
// field or with a modifier held.
(function () {
  "use strict";
  var KEY = "paperroute-theme";

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function moveCard(step) {
    var cards = Array.prototype.slice.call(document.querySelectorAll("main .card"));
    if (!cards.length) return;
    var current = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".card") : null;
    var at = cards.indexOf(current);
    var next = at < 0 ? (step > 0 ? 0 : cards.length - 1) : Math.min(cards.length - 1, Math.max(0, at + step));
    var card = cards[next];
    if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "center" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var dialog = document.getElementById("keys-dialog");
    if (dialog && dialog.open) return; // the dialog handles Escape itself
    if (event.key === "/") {
      var search = document.getElementById("site-search");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      moveCard(event.key === "j" ? 1 : -1);
    } else if (event.key === "?" && dialog && dialog.showModal) {
      event.preventDefault();
      dialog.showModal();
    }
  });

  // The header's "More" list and the pop-overs (a paper's Cite) close on Escape (focus back
  // on their button), on a click elsewhere and when focus leaves them.
  var MENUS = "details.nav-more, details.popover";
  function closeMenus(except) {
    var open = document.querySelectorAll("details.nav-more[open], details.popover[open]");
    for (var i = 0; i < open.length; i++) if (open[i] !== except) open[i].open = false;
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.nav-more[open], details.popover[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest(MENUS) : null);
  });
  document.addEventListener("focusin", function (event) {
    closeMenus(event.target.closest ? event.target.closest(MENUS) : null);
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Disclosures fold away on phones only; browsers without ::details-content (reader.css)
    // get them opened here on wider screens.
    if (window.matchMedia && window.matchMedia("(min-width: 561px)").matches) {
      var folded = document.querySelectorAll("details.disclosure:not([open])");
      for (var i = 0; i < folded.length; i++) folded[i].open = true;
    }
    var close = document.querySelector("[data-close-keys]");
    if (close) {
      close.addEventListener("click", function () {
        document.getElementById("keys-dialog").close();
      });
    }
    var wrapper = document.querySelector(".theme-switch");
    var select = document.getElementById("theme-select");
    if (!wrapper || !select) return;
    var chosen = document.documentElement.getAttribute("data-theme") || "system";
    select.value = chosen;
    wrapper.hidden = false;
    select.addEventListener("change", function () {
      var value = select.value;
      try {
        if (value === "light" || value === "dark") window.localStorage.setItem(KEY, value);
        else window.localStorage.removeItem(KEY);
      } catch (e) {
        /* not remembered; still applied to this page */
      }
      if (value === "light" || value === "dark") {
        document.documentElement.setAttribute("data-theme", value);
      } else {
        document.documentElement.removeAttribute("data-theme");
      }
    });
  });
})();
