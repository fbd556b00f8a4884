// The reader's theme (light, dark, or the system's), remembered in localStorage and set on
// <html> before the first paint: this file loads in <head> without defer (the CSP allows no
// inline script). keys.js wires the switch in the header.
(function () {
  "use strict";
  try {
    var chosen = window.localStorage.getItem("paperroute-theme");
    if (chosen === "light" || chosen === "dark") {
      document.documentElement.setAttribute("data-theme", chosen);
    }
  } catch (e) {
    /* storage refused: follow the system */
  }
})();
