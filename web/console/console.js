// A one-time password link (#set-password=<token>) asks for the new password, then signs in.
const linkToken = new URLSearchParams(location.hash.slice(1)).get("set-password");
const ru = { subtitle: "Консоль оператора", email: "Эл. почта", password: "Пароль", signin: "Войти",
  signedas: "Вы вошли как", signout: "Выйти", wrong: "Неверная почта или пароль",
  newpw: "Придумайте пароль", save: "Сохранить и войти" };
const en = { wrong: "Wrong email or password" };
const t = navigator.language.startsWith("ru") ? ru : en;
document.querySelectorAll("[data-i18n]").forEach(el => { if (t[el.dataset.i18n]) el.textContent = t[el.dataset.i18n]; });
const show = user => {
  document.getElementById("login").hidden = !!user;
  document.getElementById("signedin").hidden = !user;
  if (user) document.getElementById("who").textContent = user.name ? `${user.name} <${user.email}>` : user.email;
};
if (!linkToken) fetch("/api/v1/me").then(r => r.ok ? r.json() : null).then(b => show(b && b.user));
document.getElementById("login").addEventListener("submit", async ev => {
  ev.preventDefault();
  const r = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: document.getElementById("email").value, password: document.getElementById("password").value }) });
  const b = await r.json();
  if (r.ok) { show(b.user); document.getElementById("error").textContent = ""; }
  else document.getElementById("error").textContent = r.status === 401 ? t.wrong : b.error.message;
});
document.getElementById("logout").addEventListener("click", async () => {
  await fetch("/api/v1/auth/logout", { method: "POST" }); show(null);
});
if (linkToken) {
  document.getElementById("login").hidden = true;
  document.getElementById("setpw").hidden = false;
  document.getElementById("setpw").addEventListener("submit", async ev => {
    ev.preventDefault();
    const password = document.getElementById("newpw").value;
    const r = await fetch("/api/v1/auth/password", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: linkToken, password }) });
    const b = await r.json();
    if (!r.ok) { document.getElementById("setpwerror").textContent = b.error.message; return; }
    history.replaceState(null, "", "/");
    document.getElementById("setpw").hidden = true;
    const l = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: b.user.email, password }) });
    if (l.ok) show((await l.json()).user); else show(null);
  });
}
