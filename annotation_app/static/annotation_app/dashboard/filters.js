// A filter <select data-autosubmit> submits its form when changed (pages run no inline handlers).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
