// Admin page helpers: copy buttons and the progress of Re-Push / Reconcile.
// Loaded as a file (the page's Content-Security-Policy forbids inline script).
"use strict";

function copyText(input, button) {
  const done = () => {
    const old = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = old; }, 1500);
  };
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => {
      document.execCommand("copy");
      done();
    });
  } else {
    document.execCommand("copy");
    done();
  }
}

function setupCopyButtons() {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.copy);
      if (input) copyText(input, button);
    });
  });
}

function showJob(box, job) {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".job-text");
  bar.max = job.total || 1;
  bar.value = job.total ? job.done : (job.finished ? 1 : 0);
  if (job.finished) {
    box.dataset.finished = "1";
    box.classList.add(job.error ? "failed" : "done");
    text.textContent = job.error
      ? `${job.label} failed: ${job.error}`
      : `${job.label} finished: ${job.summary}`;
  } else {
    const of = job.total ? ` of ${job.total}` : "";
    text.textContent = `${job.label}: ${job.done}${of}…${job.note ? " " + job.note : ""}`;
  }
}

function followJob() {
  const box = document.getElementById("job");
  if (!box || box.dataset.finished === "1") return;
  let failures = 0;
  const poll = () => {
    fetch(`/admin/jobs/${encodeURIComponent(box.dataset.job)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((job) => {
        failures = 0;
        showJob(box, job);
        if (!job.finished) setTimeout(poll, 500);
      })
      .catch(() => {
        failures += 1;
        if (failures < 20) setTimeout(poll, 2000);
      });
  };
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  setupCopyButtons();
  followJob();
});
