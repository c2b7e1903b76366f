// htmx keeps copies of the pages seen in sessionStorage ("htmx-history-cache") for the Back
// button. Pages of a logged-in member carry hx-history="false" and are never kept; after
// logout the first page carries data-clear-history and the whole cache is dropped, so
// nothing seen before logout can be shown again without a request.
(function () {
  "use strict";
  function clearIfAsked() {
    if (!document.querySelector("[data-clear-history]")) {
      return;
    }
    try {
      sessionStorage.removeItem("htmx-history-cache");
    } catch (e) {
      // Storage disabled: then there is no cache either.
    }
  }
  document.addEventListener("DOMContentLoaded", clearIfAsked);
  document.addEventListener("htmx:afterSettle", clearIfAsked);
})();
