// Marks the page as able to run GOV.UK Frontend's JavaScript, then starts it. A file, not an inline
// script: the Content-Security-Policy allows scripts from this origin only.
import { initAll } from "/static/vendor/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
