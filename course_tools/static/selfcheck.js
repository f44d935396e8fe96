// Self-check questions (course_tools/selfcheck.py): check an answer in the page, no server.
document.addEventListener("click", (event) => {
  const button = event.target.closest(".selfcheck-check");
  if (!button) return;
  const box = button.closest(".selfcheck");
  const feedback = box.querySelector(".selfcheck-feedback");
  let right = false;
  let message = "";
  const number = box.querySelector(".selfcheck-number");
  if (number) {
    const given = parseFloat(number.value.replace(/[\s,]/g, ""));
    if (Number.isNaN(given)) {
      feedback.className = "selfcheck-feedback selfcheck-empty";
      feedback.textContent = "Type a number first.";
      return;
    }
    right = Math.abs(given - parseFloat(number.dataset.answer)) <= parseFloat(number.dataset.tolerance);
    message = number.dataset.explain;
  } else {
    const chosen = box.querySelector("input[type=radio]:checked");
    if (!chosen) {
      feedback.className = "selfcheck-feedback selfcheck-empty";
      feedback.textContent = "Choose an answer first.";
      return;
    }
    right = chosen.dataset.right === "1";
    message = chosen.dataset.feedback;
  }
  feedback.className = "selfcheck-feedback " + (right ? "selfcheck-right" : "selfcheck-wrong");
  feedback.innerHTML = (right ? "Right. " : "Not quite. ") + message;
});
