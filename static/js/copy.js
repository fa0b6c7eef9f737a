// Copy buttons: a button with data-copy-target="<id of a field>" copies that field's value to
// the clipboard and says so in the element named by data-copy-done. Without JavaScript (or
// without clipboard access) the button stays hidden and the field can be selected by hand.
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copyTarget);
  var status = document.getElementById(button.dataset.copyDone);
  if (!field || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(
      function () {
        if (status) {
          status.textContent = "Lien copié : collez-le dans votre application d'agenda.";
        }
      },
      function () {
        field.select();
        if (status) {
          status.textContent = "Copie impossible : le lien est sélectionné, copiez-le à la main.";
        }
      }
    );
  });
});
