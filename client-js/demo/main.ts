/** The demo meeting app (Svelte): a lobby, then the meeting. See lib/flags.ts for URL flags. */

import { mount } from "svelte";

import App from "./App.svelte";
import "./app.css";

const target = document.getElementById("app");
if (target === null) throw new Error("#app missing");
mount(App, { target });
