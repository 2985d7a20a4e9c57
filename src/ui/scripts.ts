/**
 * The one inline script (allowed by the CSP nonce), loaded on every page. Each feature only
 * enhances markup that already works without JavaScript, and attaches by data attribute:
 * - [data-rows]: add/remove rows in place instead of a server round trip;
 * - [data-flow]: the workflow editor's "Add a filter", "+ Track event", ... and "Remove" in place,
 *   from its <template data-node-template>s (same names the server renders, so saving is unchanged);
 * - [data-confirm]: ask before a destructive submit;
 * - [data-enter-moves]: Enter in a field moves to the next one instead of saving a half-filled form;
 * - [data-replay]: loop the page-by-page replay with a <progress>, refresh [data-delivery-list], then
 *   say how it ended (in that order: the message speaks of the refreshed list);
 * - [data-live-preview]: re-run "Try it" as the sample is edited;
 * - [data-import]: send a large file in slices within the import's per-request row limit;
 * - [data-backfill]: start "Sync all to Bloomreach" in place and follow its progress
 *   ([data-backfill-poll] names a running job to follow when the page loads).
 * Requests carry the form's own CSRF field, so they pass the same checks as a plain submit.
 */
export const IMPORT_SLICE_ROWS = 5000;

export const SCRIPT = `
(function () {
  "use strict";
  function post(form, headers, body) {
    return fetch(form.action, { method: "POST", credentials: "same-origin", headers: headers, body: body || new URLSearchParams(new FormData(form)) });
  }
  function errorText(response) {
    return response.json().then(function (j) { return (j && j.error && j.error.message) || ("HTTP " + response.status); }, function () { return "HTTP " + response.status; });
  }

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  document.querySelectorAll("[data-rows]").forEach(function (box) {
    var list = box.querySelector("[data-rows-list]");
    var template = box.querySelector("template[data-row-template]");
    box.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      var remove = event.target.closest("[data-remove-row]");
      if (add) {
        event.preventDefault();
        var index = Number(list.getAttribute("data-next")) || 0;
        list.insertAdjacentHTML("beforeend", template.innerHTML.split("__i__").join(String(index)));
        list.setAttribute("data-next", String(index + 1));
        var empty = box.querySelector("[data-rows-empty]");
        if (empty) empty.remove();
        var input = list.lastElementChild && list.lastElementChild.querySelector("input");
        if (input) input.focus();
      } else if (remove) {
        event.preventDefault();
        var row = remove.closest("[data-row]");
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        var target = next ? next.querySelector("input") : box.querySelector("[data-add-row]");
        if (target) target.focus();
      }
    });
  });

  // Workflow editor: nodes take the next free index (the server reads them in index order and
  // renumbers on save), so a gap left by a removed node is harmless.
  var CONTROLS = "input:not([type=hidden]),select,textarea";
  document.querySelectorAll("[data-flow]").forEach(function (flow) {
    var form = flow.closest("form");
    function renumber() {
      ["filter", "action"].forEach(function (kind) {
        flow.querySelectorAll("[data-node=" + kind + "]").forEach(function (node, i) {
          node.querySelectorAll("[data-node-number]").forEach(function (n) { n.textContent = String(i + 1); });
          var then = node.querySelector("[data-node-then]");
          if (then) then.textContent = i === 0 ? "Then" : "And then";
        });
      });
      var summary = flow.querySelector("[data-filters-summary]");
      if (summary) summary.textContent = summary.getAttribute(flow.querySelector("[data-node=filter]") ? "data-some" : "data-none");
    }
    flow.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-node]");
      var remove = event.target.closest("[data-remove-node]");
      if (add) {
        var type = add.getAttribute("data-add-node");
        var template = form.querySelector("template[data-node-template=" + type + "]");
        if (!template) return;
        event.preventDefault();
        var kind = type === "filter" ? "filter" : "action";
        var counter = kind === "filter" ? "data-next-filter" : "data-next-action";
        var index = Number(flow.getAttribute(counter)) || 0;
        flow.setAttribute(counter, String(index + 1));
        var holder = document.createElement("ol");
        holder.innerHTML = template.innerHTML.split("__i__").join(String(index));
        var node = holder.firstElementChild;
        flow.insertBefore(node, add.closest("li"));
        renumber();
        var first = node.querySelector(CONTROLS);
        if (first) first.focus();
      } else if (remove) {
        event.preventDefault();
        var gone = remove.closest("[data-node]");
        var next = gone.nextElementSibling;
        gone.remove();
        renumber();
        var target = next && (next.querySelector(CONTROLS) || next.querySelector("button"));
        if (target) target.focus();
      }
    });
  });

  document.querySelectorAll("form[data-enter-moves]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      var t = event.target;
      if (event.key !== "Enter" || t.tagName !== "INPUT" || t.type === "submit" || t.type === "checkbox") return;
      event.preventDefault();
      var fields = Array.prototype.filter.call(form.querySelectorAll("input,select,textarea,button"), function (f) {
        return !f.disabled && f.type !== "hidden" && f.tabIndex >= 0 && f.offsetParent !== null;
      });
      var next = fields[fields.indexOf(t) + 1];
      if (next) next.focus();
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  function progressParts(form) {
    return { box: form.querySelector("[data-progress-box]"), bar: form.querySelector("[data-progress]"), text: form.querySelector("[data-progress-text]"), button: form.querySelector("button[type=submit]") };
  }

  document.querySelectorAll("form[data-replay]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var blank = !form.elements.since.value && !form.elements.until.value;
      if (blank && !form.querySelector("input[name=confirmAll]")) {
        if (!window.confirm("Both dates are blank: replay every dead delivery?")) return;
        var yes = document.createElement("input");
        yes.type = "hidden"; yes.name = "confirmAll"; yes.value = "yes";
        form.appendChild(yes);
      }
      var p = progressParts(form);
      var done = 0, total = null;
      p.box.hidden = false;
      p.button.disabled = true;
      p.bar.removeAttribute("value");
      p.text.textContent = "Replaying…";
      // Each page of the replay; resolves with the closing message once there is no page left.
      function step() {
        return post(form, { accept: "application/json" }).then(function (response) {
          if (!response.ok) return errorText(response).then(function (message) { return "Stopped: " + message; });
          return response.json().then(function (r) {
            done += r.replayed;
            if (total === null) total = r.replayed + r.remaining;
            p.bar.max = Math.max(total, 1);
            p.bar.value = Math.min(done, total);
            // Stop at the first count too: replayed events that die again re-enter the window.
            var more = r.remaining > 0 && r.replayed > 0 && done < total;
            if (more) {
              p.text.textContent = done + " of " + total + " replayed…";
              return step();
            }
            return "Done: " + done + " queued for replay; the list above shows them as they are now (reload it to follow them).";
          });
        });
      }
      // The rows replayed are no longer dead: show the list as the server has it now.
      function refreshList() {
        var box = document.querySelector("[data-delivery-list]");
        if (!box) return;
        return fetch(location.href, { credentials: "same-origin", headers: { "x-ui-fragment": "1" } }).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
          if (html) box.innerHTML = html;
        });
      }
      // The list is swapped before the closing message is shown (and read out): when it says
      // "the list above shows them", the list already does.
      step().catch(function (error) { return "Stopped: " + error.message; }).then(function (message) {
        return Promise.resolve(refreshList()).catch(function () {}).then(function () { p.text.textContent = message; });
      }).then(function () { p.button.disabled = false; });
    });
  });

  document.querySelectorAll("form[data-live-preview]").forEach(function (form) {
    var output = form.parentElement.querySelector("[data-preview-output]");
    var timer = null, seq = 0;
    function run() {
      var mine = ++seq;
      post(form, { "x-ui-fragment": "1" }).then(function (response) {
        return response.text().then(function (html) { if (mine === seq) output.innerHTML = html; });
      }).catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 600);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      run();
    });
  });

  document.querySelectorAll("form[data-import]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]").files[0];
      if (!file || !window.fetch || !file.text) return;
      event.preventDefault();
      var p = progressParts(form);
      var output = form.querySelector("[data-import-output]");
      var choice = form.querySelector("select[name=format]").value;
      var name = file.name.toLowerCase();
      var format = choice !== "auto" ? choice : /\\.csv$/.test(name) ? "csv" : /\\.(ndjson|jsonl|json)$/.test(name) ? "ndjson" : "";
      if (!format) { output.textContent = "Choose CSV or NDJSON: the file name does not say."; return; }
      p.box.hidden = false;
      p.button.disabled = true;
      output.textContent = "";
      file.text().then(function (text) {
        var lines = text.split("\\n");
        if (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
        var first = format === "csv" ? 1 : 0;
        var header = format === "csv" ? lines[0] : null;
        var rows = Math.max(lines.length - first, 0);
        var totals = { imported: 0, updated: 0, rejectedCount: 0, total: 0, rejected: [], warningCount: 0, warnings: [] };
        p.bar.max = Math.max(rows, 1);
        p.bar.value = 0;
        function quotes(line) { return (line.match(/"/g) || []).length; }
        function slice(start) {
          if (start >= lines.length) return Promise.resolve();
          var end = Math.min(start + ${IMPORT_SLICE_ROWS}, lines.length), count = 0;
          for (var i = start; i < end; i++) count += quotes(lines[i]);
          // Never cut a quoted CSV cell that spans lines.
          while (format === "csv" && count % 2 === 1 && end < lines.length) { count += quotes(lines[end]); end++; }
          var body = lines.slice(start, end);
          if (header !== null) body.unshift(header);
          var data = new FormData();
          data.append("_csrf", form.querySelector("input[name=_csrf]").value);
          data.append("format", format);
          data.append("lineOffset", String(header !== null ? start - 1 : start));
          data.append("file", new File([body.join("\\n") + "\\n"], file.name, { type: "text/plain" }));
          return post(form, { accept: "application/json" }, data).then(function (response) {
            if (!response.ok) return errorText(response).then(function (message) { throw new Error(message); });
            return response.json().then(function (s) {
              totals.imported += s.imported; totals.updated += s.updated; totals.rejectedCount += s.rejectedCount; totals.total += s.total;
              totals.rejected = totals.rejected.concat(s.rejected).slice(0, 100);
              totals.warningCount += s.warningCount || 0;
              totals.warnings = totals.warnings.concat(s.warnings || []).slice(0, 100);
              p.bar.value = end - first;
              p.text.textContent = (end - first) + " of " + rows + " rows sent: " + totals.imported + " new, " + totals.updated + " updated, " + totals.rejectedCount + " rejected.";
              return slice(end);
            });
          });
        }
        return slice(first).then(function () {
          p.text.textContent = "Done. Read " + totals.total + " rows: " + totals.imported + " new, " + totals.updated + " updated, " + totals.rejectedCount + " rejected.";
          function list(title, items, text) {
            var head = document.createElement("p");
            head.textContent = title;
            var ul = document.createElement("ul");
            items.forEach(function (item) { var li = document.createElement("li"); li.textContent = text(item); ul.appendChild(li); });
            output.className = "notice warn";
            output.appendChild(head);
            output.appendChild(ul);
          }
          if (totals.warnings.length) list("Imported with a warning: " + totals.warningCount + " row(s).", totals.warnings, function (w) { return "line " + w.line + ": " + w.message; });
          if (totals.rejected.length) list("Rejected:", totals.rejected, function (r) { return "line " + r.line + ": " + r.reason; });
        });
      }).catch(function (error) { p.text.textContent = "Stopped: " + error.message; }).then(function () { p.button.disabled = false; });
    });
  });

  var backfillBox = document.querySelector("[data-backfill-box]");
  function backfillView(job) {
    var done = job.sent + job.skipped + job.failed;
    var n = function (x) { return Number(x).toLocaleString("en-US"); };
    var box = document.createElement("div");
    box.className = "notice " + (job.failed > 0 || job.status === "failed" ? "warn" : job.status === "running" ? "info" : "ok");
    box.setAttribute("role", "status");
    var label = document.createElement("label");
    label.setAttribute("for", "backfill-progress");
    label.textContent = job.status === "running" ? "Syncing… " + n(done) + " of " + n(job.total) + " customers"
      : job.status === "done" ? "Finished: " + n(done) + " of " + n(job.total) + " customers"
      : job.status === "cancelled" ? "Stopped: " + n(done) + " of " + n(job.total) + " customers were handled before it was stopped"
      : "Could not finish: " + (job.error || "the sync stopped");
    var bar = document.createElement("progress");
    bar.id = "backfill-progress";
    bar.max = Math.max(job.total, 1);
    bar.value = Math.min(done, job.total);
    var counts = document.createElement("p");
    counts.textContent = n(job.sent) + " sent · " + n(job.skipped) + " already up to date · " + n(job.failed) + " failed";
    box.appendChild(label); box.appendChild(bar); box.appendChild(counts);
    if (job.failures && job.failures.length) {
      var ul = document.createElement("ul");
      job.failures.forEach(function (f) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/admin/customers?id=" + encodeURIComponent(f.customerId);
        a.textContent = f.customerId;
        li.appendChild(a);
        li.appendChild(document.createTextNode(": " + (f.error || f.status)));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    backfillBox.replaceChildren(box);
  }
  function followBackfill(url) {
    var start = document.querySelector("form[data-backfill] button");
    if (start) start.disabled = true;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } }).then(function (response) {
        if (!response.ok) return errorText(response).then(function (message) { throw new Error(message); });
        return response.json().then(function (job) {
          backfillView(job);
          if (job.status === "running") setTimeout(tick, 1000);
          else if (start) start.disabled = false;
        });
      }).catch(function (error) { backfillBox.textContent = "Could not read the progress: " + error.message; if (start) start.disabled = false; });
    }
    tick();
  }
  if (backfillBox) {
    var polling = backfillBox.getAttribute("data-backfill-poll");
    if (polling) followBackfill(polling);
    var backfillForm = document.querySelector("form[data-backfill]");
    if (backfillForm) backfillForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = backfillForm.querySelector("button");
      button.disabled = true;
      post(backfillForm, { accept: "application/json" }).then(function (response) {
        if (!response.ok) return errorText(response).then(function (message) { backfillBox.textContent = message; button.disabled = false; });
        return response.json().then(function (job) { backfillView(job); followBackfill("/admin/customers/backfill/" + encodeURIComponent(job.id)); });
      }).catch(function (error) { backfillBox.textContent = error.message; button.disabled = false; });
    });
  }
})();
`;
