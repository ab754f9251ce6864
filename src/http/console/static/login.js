// Signs in with fetch, so the token never lands in the browser history as a form resubmission.
const form = document.getElementById('login-form');
const error = document.getElementById('login-error');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = form.elements.token.value.trim();
  const response = await fetch('/ui/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tandem-request': '1' },
    body: JSON.stringify({ token }),
  });
  if (response.ok) {
    location.href = form.elements.next.value || '/ui';
    return;
  }
  error.textContent = 'That is not an admin or viewer token.';
  error.hidden = false;
  form.elements.token.select();
});
