// Agenda: after htmx puts a day panel (or a booking's detail) on the page, move the keyboard
// focus to its title so that screen-reader and keyboard users land where the content changed.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (!target || target.id !== "panneau-jour") {
    return;
  }
  var title = target.querySelector("[data-panel-title]");
  if (title) {
    title.focus();
  }
});
