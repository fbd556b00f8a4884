// The digest form (subscribe and manage pages): "Weekly on" shows only for weekly delivery,
// and a new subscription starts in the browser's time zone. The form works without this.
(function () {
  "use strict";
  function weekly() {
    var frequency = document.getElementById("digest-frequency");
    var rows = document.querySelectorAll("[data-weekly-only]");
    if (!frequency) return;
    function update() {
      for (var i = 0; i < rows.length; i++) rows[i].hidden = frequency.value !== "weekly";
    }
    frequency.addEventListener("change", update);
    update();
  }
  function timeZone() {
    var field = document.querySelector("[data-detect-timezone]");
    if (!field || (field.value && field.value !== "UTC")) return;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) field.value = zone;
    } catch (e) {
      /* keep UTC */
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    weekly();
    timeZone();
  });
})();
