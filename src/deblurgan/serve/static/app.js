// The page of `deblurgan serve`: uploads files one request each, polls this browser's job list
// (the server scopes it with a cookie, so a reload shows the same jobs), and shows each finished
// photo on a before/after slider with zoom. No external scripts or fonts, nothing inline (the
// server's Content-Security-Policy allows only this file).
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const cards = new Map(); // job id -> card element
const removed = new Set(); // ids removed here, ignored if a poll still lists them
let polling = null;

const CHOICES = ["method", "model", "precision", "tile"]; // remembered in this browser
let maxUploadBytes = null;

function remember() {
  for (const id of CHOICES) {
    try { localStorage.setItem(`deblurgan.${id}`, $(`#${id}`).value); } catch (_) { /* private mode */ }
  }
}

function recall() {
  for (const id of CHOICES) {
    let value = null;
    try { value = localStorage.getItem(`deblurgan.${id}`); } catch (_) { /* private mode */ }
    const select = $(`#${id}`);
    if (value !== null && [...select.options].some((o) => o.value === value)) select.value = value;
  }
}

async function loadInfo() {
  const info = await (await fetch("/api/info")).json();
  for (const method of info.methods) {
    const option = new Option(method.label, method.value);
    option.dataset.detail = method.summary;
    $("#method").add(option);
  }
  const showMethod = () => {
    // The model, precision and tiling are the network's (which auto may choose); l0 ignores them.
    const option = $("#method").selectedOptions[0];
    $("#method-detail").textContent = option ? option.dataset.detail : "";
    for (const label of document.querySelectorAll("#options label.network")) {
      const unused = option && !["network", "auto"].includes(option.value); // auto may run it
      label.classList.toggle("unused", unused);
      $("select", label).disabled = unused;
    }
  };
  $("#method").closest("label").hidden = info.methods.length < 2;
  for (const model of info.models) $("#model").add(new Option(model.label, model.value));
  for (const precision of info.precisions) {
    const option = new Option(precision.label, precision.value);
    option.dataset.detail = precision.detail;
    $("#precision").add(option);
  }
  const showDetail = () => {
    const option = $("#precision").selectedOptions[0];
    $("#precision-detail").textContent = option ? option.dataset.detail : "";
  };
  recall();
  $("#method").onchange = () => { showMethod(); remember(); };
  $("#precision").onchange = () => { showDetail(); remember(); };
  $("#model").onchange = remember;
  $("#tile").onchange = remember;
  showMethod();
  showDetail();
  maxUploadBytes = info.max_upload_bytes;
  $("#limits").textContent = info.limits;
}

async function showEarlierJobs() {
  // After a reload: the jobs this browser made, oldest first so that the newest ends on top.
  const jobs = await (await fetch("/api/jobs")).json();
  for (const job of jobs) if (!cards.has(job.id)) adopt(makeCard(job), job);
  refreshZip();
  if (jobs.some(active)) poll();
}

function upload(file) {
  // One request per file, so that a refused file (too large, unsupported) fails alone.
  remember();
  const card = makeCard({ id: null, name: file.name, status: "uploading", progress: 0 });
  const form = new FormData();
  form.append("files", file, file.name);
  form.append("method", $("#method").value);
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
      const error = uploadError(request.status);
      update(card, { name: file.name, status: "failed", error, error_detail: `${request.status}: ${detail}` });
      return;
    }
    const [job] = JSON.parse(request.responseText);
    if (cards.has(job.id)) card.remove(); // a poll was quicker and made its card
    else adopt(card, job);
    poll();
  };
  request.onerror = () => update(card, {
    name: file.name, status: "failed",
    error: "The file did not reach the page. Is deblurgan still running? Reload the page and try again.",
  });
  request.send(form);
}

function uploadError(status) {
  if (status === 413) {
    const most = maxUploadBytes ? ` (at most ${mebibytes(maxUploadBytes)})` : "";
    return `This file is larger than the page takes${most}. Make it smaller, or shorten the video, and try again.`;
  }
  if (status === 421 || status === 403) return "The page refused this upload. Open the page again from the address deblurgan printed, and retry.";
  return "The page could not take this file. Reload the page and try again.";
}

function mebibytes(bytes) { // as the server writes sizes: MiB, 2**20 bytes
  const mib = bytes / 2 ** 20;
  return `${mib >= 10 ? Math.round(mib) : mib.toFixed(1)} MiB`;
}

function adopt(card, job) {
  card.dataset.id = job.id;
  cards.set(job.id, card);
  update(card, job);
}

function makeCard(job) {
  const card = $("#job-template").content.firstElementChild.cloneNode(true);
  $("#jobs").prepend(card);
  $(".cancel", card).onclick = () => {
    if (!card.dataset.id) return;
    card.dataset.cancelling = "yes"; // say so at once; the server confirms on the next poll
    $(".status", card).textContent = "cancelling…";
    $(".cancel", card).hidden = true;
    fetch(`/api/jobs/${card.dataset.id}/cancel`, { method: "POST" }).then(poll);
  };
  $(".remove", card).onclick = () => {
    if (card.dataset.id) {
      removed.add(card.dataset.id);
      fetch(`/api/jobs/${card.dataset.id}`, { method: "DELETE" });
    }
    cards.delete(card.dataset.id);
    card.remove();
    refreshZip();
  };
  update(card, job);
  return card;
}

const active = (job) => ["queued", "running"].includes(job.status);

const STATUS_WORDS = { queued: "waiting", running: "working", done: "done", failed: "failed", cancelled: "cancelled", uploading: "uploading" };

function update(card, job) {
  $(".name", card).textContent = job.name;
  const cancelling = active(job) && (job.cancelling || card.dataset.cancelling === "yes");
  card.dataset.cancelling = cancelling ? "yes" : "";
  $(".status", card).textContent = cancelling ? "cancelling…" : STATUS_WORDS[job.status] || job.status;
  card.dataset.status = job.status;
  const bar = $("progress", card);
  const unknown = !job.basis || (job.basis === "stages" && job.progress < 0.01);
  if (job.status === "running" && unknown) bar.removeAttribute("value"); // moving stripes
  else bar.value = job.status === "done" ? 1 : job.progress || 0;
  $(".timing", card).textContent = cancelling ? "stopping the work on this file" : timing(job);
  $(".error", card).textContent = job.error || "";
  $("code", $(".error-detail", card)).textContent = job.error_detail || "";
  $(".error-detail", card).hidden = !job.error_detail;
  $(".found", card).textContent = job.found || "";
  $(".cancel", card).hidden = !active(job) || cancelling;
  if (job.status === "done" && !card.dataset.shown) {
    card.dataset.shown = "yes";
    showResult(card, job);
  }
  refreshZip();
}

function timing(job) {
  if (job.status === "queued") return "waiting for the files before it";
  if (job.status === "cancelled") return "cancelled: nothing was saved";
  if (job.status === "done" && job.elapsed_s != null) return `took ${duration(job.elapsed_s)}`;
  if (job.status !== "running" || job.elapsed_s == null) return "";
  const parts = [job.stage || "starting", `${duration(job.elapsed_s)} so far`];
  const left = job.remaining_s != null && job.remaining_s > 0 ? `about ${duration(job.remaining_s)} left` : null;
  if (job.basis === "estimate" && job.stage === "deblurring") {
    parts.push(left ? `${left} (estimated from this computer's speed)` : "taking longer than estimated");
  } else if (job.basis === "frames") {
    parts.push(`${Math.round(job.progress * 100)}% of the frames${left ? `, ${left}` : ""}`);
  } else if (job.basis === "stages" && job.progress >= 0.01) { // the step's own share
    parts.push(`${Math.round(job.progress * 100)}% of this step${left ? `, ${left}` : ""}`);
  }
  return parts.join(" · ");
}

function duration(seconds) {
  const s = Math.round(seconds);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

function refreshZip() {
  // Only finished jobs of this browser are zipped; with none, say why instead of linking.
  const done = document.querySelectorAll(".job[data-status=done][data-id]").length;
  const zip = $("#zip");
  if (done) {
    zip.href = "/api/results.zip";
    zip.removeAttribute("aria-disabled");
    zip.textContent = done > 1 ? `Download all ${done} results (zip)` : "Download the result (zip)";
    $("#zip-hint").textContent = "";
  } else {
    zip.removeAttribute("href");
    zip.setAttribute("aria-disabled", "true");
    zip.textContent = "Download all results (zip)";
    $("#zip-hint").textContent = "Nothing has finished yet: results can be downloaded once a file is done.";
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

function compareWidget(beforeUrl, afterUrl) {
  // At zoom 1 the whole photo fits the view (portrait ones too); dragging on it moves the
  // divider; zooming keeps the point under the pointer (or the view's centre) in place.
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
  const viewport = $(".viewport", widget);
  const labels = $(".labels", widget);
  const stage = $(".stage", widget);
  const after = $("img.after", widget);
  const slider = $("input.slider", widget);
  const zoom = $("input.zoom", widget);
  let focus = null; // where the pointer last was, in viewport coordinates

  const innerWidth = () => viewport.offsetWidth - 2 * viewport.clientLeft; // scrollbars or not
  const fitWidth = () => {
    const aspect = after.naturalWidth / after.naturalHeight || 1;
    const maxHeight = parseFloat(getComputedStyle(viewport).maxHeight) || Infinity;
    return Math.min(innerWidth(), (maxHeight - 2 * viewport.clientTop) * aspect);
  };
  const setZoom = (value, at) => {
    at = at || { x: viewport.clientWidth / 2, y: viewport.clientHeight / 2 };
    const oldWidth = stage.offsetWidth || 1;
    const oldHeight = stage.offsetHeight || 1;
    const fx = (viewport.scrollLeft + at.x - stage.offsetLeft) / oldWidth;
    const fy = (viewport.scrollTop + at.y - stage.offsetTop) / oldHeight;
    stage.style.setProperty("--zoom", String(value));
    stage.style.width = `${fitWidth() * value}px`;
    placeLabels();
    viewport.scrollLeft = fx * stage.offsetWidth + stage.offsetLeft - at.x;
    viewport.scrollTop = fy * stage.offsetHeight + stage.offsetTop - at.y;
  };
  const placeLabels = () => { // the captions over the photo's own edges, not the page's
    const left = Math.max(stage.offsetLeft - viewport.scrollLeft, 0);
    labels.style.marginLeft = `${viewport.clientLeft + left}px`;
    labels.style.width = `${Math.min(stage.offsetWidth, viewport.clientWidth - left)}px`;
  };
  viewport.addEventListener("scroll", placeLabels);
  const setDivider = (percent) => {
    slider.value = Math.min(100, Math.max(0, percent));
    stage.style.setProperty("--pos", `${slider.value}%`);
  };
  const dividerAt = (event) => {
    const box = stage.getBoundingClientRect();
    setDivider(((event.clientX - box.left) / box.width) * 100);
  };

  after.onload = () => setZoom(Number(zoom.value));
  let size = "";
  const refit = () => { // when the page gets narrower, wider, shorter or taller
    const now = `${innerWidth()}x${window.innerHeight}`;
    if (now !== size) setZoom(Number(zoom.value));
    size = now;
  };
  new ResizeObserver(refit).observe(viewport);
  window.addEventListener("resize", refit);
  slider.oninput = () => setDivider(Number(slider.value));
  zoom.oninput = () => setZoom(Number(zoom.value), focus);
  stage.onpointerdown = (event) => {
    stage.setPointerCapture(event.pointerId);
    dividerAt(event);
  };
  stage.onpointermove = (event) => {
    if (stage.hasPointerCapture(event.pointerId)) dividerAt(event);
  };
  viewport.onpointermove = (event) => {
    const box = viewport.getBoundingClientRect();
    focus = { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  viewport.onpointerleave = () => { focus = null; };
  viewport.onwheel = (event) => {
    if (!event.ctrlKey) return; // a pinch on a touchpad, or Ctrl + wheel: zoom there
    event.preventDefault();
    const box = viewport.getBoundingClientRect();
    focus = { x: event.clientX - box.left, y: event.clientY - box.top };
    zoom.value = Math.min(8, Math.max(1, Number(zoom.value) * Math.exp(-event.deltaY / 300)));
    setZoom(Number(zoom.value), focus);
  };
  $("img.before", widget).src = beforeUrl;
  after.src = afterUrl;
  return widget;
}

async function poll() {
  if (polling) return;
  polling = setInterval(async () => {
    const jobs = await (await fetch("/api/jobs")).json();
    for (const job of jobs) {
      if (removed.has(job.id)) continue;
      const card = cards.get(job.id);
      if (card) update(card, job);
      else adopt(makeCard(job), job); // made in another tab of this browser
    }
    if (!jobs.some(active)) {
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

refreshZip();
loadInfo().then(showEarlierJobs);
setUpDrop();
