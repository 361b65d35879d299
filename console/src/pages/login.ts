// Shown when the server answers 401: the user and password go as HTTP Basic auth from then on.
import { clearCredentials, setCredentials, sql } from "../api";
import { h } from "../dom";

export function loginForm(message: string, onDone: () => void): HTMLElement {
  const user = h("input", { name: "user", autocomplete: "username", value: "freshet", required: true }) as HTMLInputElement;
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password" }) as HTMLInputElement;
  const error = h("p", { class: "error", role: "alert" }, message);
  const form = h("form", { class: "login" },
    h("h1", {}, "Sign in to Freshet"),
    h("label", {}, "User", user),
    h("label", {}, "Password", password),
    h("button", { class: "primary", type: "submit" }, "Sign in"),
    error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setCredentials(user.value, password.value);
    try {
      await sql("SELECT 1");
      onDone();
    } catch (err) {
      clearCredentials();
      error.textContent = (err as Error).message || "sign-in failed";
    }
  });
  return form;
}
