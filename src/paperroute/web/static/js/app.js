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

// Copy buttons (the paper's id, its citation): data-copy-text holds the text, data-copy-from
// names the element whose text to copy. The Clipboard API needs a secure context (HTTPS or
// localhost); where it is missing the button says so instead of failing silently.
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest ? event.target.closest("[data-copy-text],[data-copy-from]") : null;
  if (!button) return;
  var text = button.getAttribute("data-copy-text");
  if (text === null) {
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    text = source ? source.textContent : "";
  }
  var label = button.getAttribute("data-label") || button.textContent;
  button.setAttribute("data-label", label);
  function say(words) {
    button.textContent = words;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }
  if (!navigator.clipboard || !navigator.clipboard.writeText) {
    say("Copy unavailable");
    return;
  }
  navigator.clipboard.writeText(text).then(
    function () { say("Copied"); },
    function () { say("Could not copy"); }
  );
});

// A link to a closed <details> (the trending formula, #formula) opens it on arrival, on
// the page's first load as on a later jump within it.
(function () {
  "use strict";
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openTarget);
  } else {
    openTarget();
  }
})();
