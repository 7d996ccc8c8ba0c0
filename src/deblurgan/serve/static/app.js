// The page of `deblurgan serve`: uploads files one request each, polls the job list, and shows
// each finished photo on a before/after slider with zoom. No external scripts or fonts.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const cards = new Map(); // job id -> card element
let polling = null;

async function loadInfo() {
  const info = await (await fetch("/api/info")).json();
  for (const [select, values] of [[$("#model"), info.models], [$("#precision"), info.precisions]]) {
    for (const value of values) select.add(new Option(value, value));
  }
  const mb = Math.round(info.max_upload_bytes / 2 ** 20);
  const mp = info.max_pixels ? `, at most ${Math.round(info.max_pixels / 1e6)} megapixels` : "";
  $("#limits").textContent = `Up to ${mb} MiB per upload${mp}. JPEG, PNG, TIFF, WebP, GIF, BMP; MP4, MOV, AVI, MKV, WebM.`;
}

function upload(file) {
  // One request per file, so that a refused file (too large, unsupported) fails alone.
  const card = makeCard({ id: null, name: file.name, status: "uploading", progress: 0 });
  const form = new FormData();
  form.append("files", file, file.name);
  form.append("model", $("#model").value);
  form.append("precision", $("#precision").value);
  form.append("tile", $("#tile").value);
  const request = new XMLHttpRequest();
  request.open("POST", "/api/jobs");
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) $("progress", card).value = event.loaded / event.total;
  };
  request.onload = () => {
    if (request.status !== 200) {
      let detail = request.statusText;
      try { detail = JSON.parse(request.responseText).detail; } catch (_) { /* keep statusText */ }
      update(card, { name: file.name, status: "failed", progress: 0, error: `${request.status}: ${detail}` });
      return;
    }
    const [job] = JSON.parse(request.responseText);
    card.dataset.id = job.id;
    cards.set(job.id, card);
    update(card, job);
    poll();
  };
  request.onerror = () => update(card, { name: file.name, status: "failed", error: "upload failed" });
  request.send(form);
}

function makeCard(job) {
  const card = $("#job-template").content.firstElementChild.cloneNode(true);
  $("#jobs").prepend(card);
  $(".cancel", card).onclick = () => card.dataset.id && fetch(`/api/jobs/${card.dataset.id}/cancel`, { method: "POST" }).then(poll);
  $(".remove", card).onclick = () => {
    if (card.dataset.id) fetch(`/api/jobs/${card.dataset.id}`, { method: "DELETE" });
    cards.delete(card.dataset.id);
    card.remove();
  };
  update(card, job);
  return card;
}

function update(card, job) {
  $(".name", card).textContent = job.name;
  $(".status", card).textContent = job.status;
  card.dataset.status = job.status;
  $("progress", card).value = job.status === "done" ? 1 : job.progress || 0;
  $(".error", card).textContent = job.error || "";
  $(".cancel", card).hidden = !["queued", "running"].includes(job.status);
  if (job.status === "done" && !card.dataset.shown) {
    card.dataset.shown = "yes";
    showResult(card, job);
  }
}

function showResult(card, job) {
  const result = $(".result", card);
  const url = `/api/jobs/${job.id}/result`;
  if (job.has_previews) {
    result.append(compareWidget(`/api/jobs/${job.id}/before`, `/api/jobs/${job.id}/after`));
  } else if (job.kind === "video") {
    const video = document.createElement("video");
    Object.assign(video, { src: url, controls: true, loop: true });
    result.append(video);
  } else {
    const image = document.createElement("img");
    Object.assign(image, { src: url, className: "single", alt: "deblurred" });
    result.append(image);
  }
  const link = document.createElement("a");
  Object.assign(link, { href: url, className: "button download", textContent: `Download ${job.download_name}` });
  link.download = job.download_name;
  result.append(link);
}

function compareWidget(before, after) {
  const widget = document.createElement("div");
  widget.className = "compare";
  widget.innerHTML = `
    <div class="labels"><span>before</span><span>after</span></div>
    <div class="viewport"><div class="stage">
      <img class="after" alt="after"><img class="before" alt="before"><div class="divider"></div>
    </div></div>
    <div class="controls">
      <label>before | after <input class="slider" type="range" min="0" max="100" value="50" step="0.5"></label>
      <label>zoom <input class="zoom" type="range" min="1" max="8" value="1" step="0.25"></label>
    </div>`;
  $("img.after", widget).src = after;
  $("img.before", widget).src = before;
  const stage = $(".stage", widget);
  const slider = $("input.slider", widget);
  const zoom = $("input.zoom", widget);
  slider.oninput = () => stage.style.setProperty("--pos", `${slider.value}%`);
  zoom.oninput = () => stage.style.setProperty("--zoom", zoom.value);
  return widget;
}

async function poll() {
  if (polling) return;
  polling = setInterval(async () => {
    const jobs = await (await fetch("/api/jobs")).json();
    for (const job of jobs) {
      const card = cards.get(job.id);
      if (card) update(card, job);
    }
    if (!jobs.some((job) => ["queued", "running"].includes(job.status))) {
      clearInterval(polling);
      polling = null;
    }
  }, 500);
}

function setUpDrop() {
  const drop = $("#drop");
  drop.ondragover = (event) => { event.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    [...event.dataTransfer.files].forEach(upload);
  };
  $("#files").onchange = (event) => { [...event.target.files].forEach(upload); event.target.value = ""; };
}

loadInfo();
setUpDrop();
