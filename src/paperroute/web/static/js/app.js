// Math in titles and abstracts: the server escapes the text; KaTeX renders $...$ in place.
// A formula KaTeX rejects stays as the text it was (throwOnError + a quiet errorCallback).
(function () {
  "use strict";
  var options = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$", right: "$", display: false },
    ],
    throwOnError: true,
    errorCallback: function () {},
    trust: false,
    strict: "ignore",
    maxExpand: 200,
  };
  function render(root) {
    if (typeof window.renderMathInElement !== "function") return;
    var scope = root || document;
    var nodes = Array.prototype.slice.call(scope.querySelectorAll(".math:not([data-math-done])"));
    if (scope.matches && scope.matches(".math:not([data-math-done])")) nodes.push(scope);
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].setAttribute("data-math-done", "");
      try {
        window.renderMathInElement(nodes[i], options);
      } catch (e) {
        /* leave the text as it is */
      }
    }
    document.documentElement.setAttribute("data-math", "ready");
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (event) { render(event.target); });
})();

// The subscribe form: prefill the reader's time zone (the form works without it). Here, not
// inline: the CSP allows scripts from this site's files only.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var field = document.querySelector("[data-detect-timezone]");
  try {
    if (field && field.value === "UTC") {
      field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    }
  } catch (e) {
    /* keep UTC */
  }
});
