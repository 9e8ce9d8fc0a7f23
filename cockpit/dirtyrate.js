/* SPDX-License-Identifier: GPL-2.0-only
 *
 * dirtyrate's Cockpit page. Everything comes from org.dirtyrate1 on the
 * system bus through cockpit.dbus(): the Manager's properties for the
 * service card, and one org.dirtyrate1.Process object per tracked process
 * for the table. dirtyrated sends a PropertiesChanged per process whose
 * values a sample pass changed (none for an idle one), and one on the
 * Manager when the pass is over, so the page never polls: with
 * ReadAccess=all the ObjectManager proxies follow those signals, and each
 * row's plot gets a point at every pass's end; with ReadAccess=owner the
 * daemon sends no per-process signals (they would be broadcast), so each
 * change of the Manager's LastSampleTimestamp -- one per pass -- is
 * answered with one GetManagedObjects, as daemon/README.md asks clients to.
 *
 * The client is opened with superuser: "try": with Cockpit's administrative
 * access on, the bridge is root and may track and untrack; without it the
 * daemon asks polkit (org.dirtyrate1.manage) and its refusal is shown in
 * words. Switching access reconnects.
 */
(function () {
    "use strict";

    const _ = cockpit.gettext;

    const BUS_NAME = "org.dirtyrate1";
    const MANAGER_PATH = "/org/dirtyrate1";
    const MANAGER_IFACE = "org.dirtyrate1.Manager";
    const PROCESS_IFACE = "org.dirtyrate1.Process";
    const PROCESS_NAMESPACE = "/org/dirtyrate1/process";
    const OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager";

    const ERROR_ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied";
    const ERROR_INTERACTIVE_AUTH = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired";
    const ERROR_NO_SUCH_PROCESS = "org.dirtyrate1.Error.NoSuchProcess";
    const ERROR_NOT_TRACKED = "org.dirtyrate1.Error.NotTracked";
    const ERROR_NOT_SUPPORTED = "org.dirtyrate1.Error.NotSupported";
    const ERROR_INVALID_ARGUMENT = "org.dirtyrate1.Error.InvalidArgument";

    /* The plot's window, and how much history each process keeps. */
    const PLOT_WINDOW_USEC = 5 * 60 * 1000000;
    /* Linux's largest pid_max. */
    const PID_MAX = 4194304;

    const state = {
        client: null,
        manager: null,
        processes: null,
        generation: 0,          /* bumps at each (re)connect: late replies of an old client are dropped */
        rows: new Map(),        /* object path -> copy of the Process properties */
        histories: new Map(),   /* "PID:StartTimestampBoottime" -> [{ t, rate, se, avg10 }] */
        readAccess: null,
        superuser: null,        /* Cockpit's superuser "Current": "none", "init", or the privileged bridge ("sudo", "pkexec") */
        sortKey: "rate",
        sortAscending: false,
        filter: "",
        selectedPid: null,
        ownerRefresh: { running: false, again: false },
        pending: new Set(),     /* PIDs with a Track/Untrack call in flight */
    };

    const $ = id => document.getElementById(id);

    /* Cockpit's administrative access: the bridge runs as root. */
    const administrative = () => state.superuser !== null && state.superuser !== "none" && state.superuser !== "init";
    const accessName = () => state.superuser === null ? "unknown" : administrative() ? "administrative" : "limited";

    /* ---- formatting ---------------------------------------------------- */

    const RATE_UNITS = ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"];
    const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /* dirtyrated sends NaN for "not measured"; the bridge's JSON makes it null. */
    const measured = v => typeof v === "number" && Number.isFinite(v);

    /* The next unit from 1000 of one on ("0.99 MiB/s", not "1010 KiB/s"):
     * never more than three digits before the point. */
    function scaleOf(v) {
        let i = 0;
        while (i < RATE_UNITS.length - 1 && Math.abs(v) >= 1000 * Math.pow(1024, i))
            i++;
        return i;
    }

    /* Three significant digits, as `dirtyratectl` and Cockpit's own graphs show. */
    function digits(x) {
        const a = Math.abs(x);
        return x.toFixed(a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2);
    }

    function formatRate(v) {
        if (!measured(v))
            return "—";
        const i = scaleOf(v);
        return digits(v / Math.pow(1024, i)) + " " + RATE_UNITS[i];
    }

    /* The standard error in the unit of the value it belongs to. */
    function formatStdError(v, se) {
        if (!measured(v) || !measured(se) || se <= 0)
            return "";
        return "±" + digits(se / Math.pow(1024, scaleOf(v)));
    }

    function formatSize(v) {
        if (!measured(v))
            return "—";
        const i = scaleOf(v);
        return digits(v / Math.pow(1024, i)) + " " + SIZE_UNITS[i];
    }

    function formatCount(v) {
        if (!measured(v))
            return "—";
        return v.toLocaleString(cockpit.language, { maximumFractionDigits: v < 10 ? 1 : 0 });
    }

    function formatUSec(usec) {
        if (!measured(usec))
            return "—";
        if (usec < 1000)
            return cockpit.format(_("$0 µs"), usec);
        if (usec < 1000000)
            return cockpit.format(_("$0 ms"), +(usec / 1000).toFixed(1));
        if (usec < 60000000)
            return cockpit.format(_("$0 s"), +(usec / 1000000).toFixed(2));
        return cockpit.format(_("$0 min"), +(usec / 60000000).toFixed(1));
    }

    function formatTimestamp(usec) {
        if (!measured(usec) || usec <= 0)
            return "—";
        return new Date(usec / 1000).toLocaleString(cockpit.language);
    }

    function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (k === "class")
                node.className = v;
            else if (k === "text")
                node.textContent = v;
            else if (v !== undefined && v !== null && v !== false)
                node.setAttribute(k, v === true ? "" : v);
        }
        for (const c of children)
            node.append(c);
        return node;
    }

    const SVG_NS = "http://www.w3.org/2000/svg";

    function svgEl(tag, attrs, ...children) {
        const node = document.createElementNS(SVG_NS, tag);
        for (const [k, v] of Object.entries(attrs || {}))
            node.setAttribute(k, v);
        for (const c of children)
            node.append(c);
        return node;
    }

    function label(text, color, title) {
        const l = el("span", { class: "pf-c-label pf-m-compact" + (color ? " pf-m-" + color : ""), title },
                     el("span", { class: "pf-c-label__content", text }));
        return l;
    }

    function setText(node, text) {
        if (node.textContent !== text)
            node.textContent = text;
    }

    /* ---- the table's columns ------------------------------------------- */

    const BACKEND_TITLES = {
        "pagemap-ioctl": _("Exact: the kernel's PAGEMAP_SD_GET_AND_CLEAR ioctl (dirtyrate kernel series)"),
        "clear-refs": _("Stock soft-dirty: /proc/PID/clear_refs, whole-process clears"),
        "page-sampling": _("An estimate from hashes of sampled pages, with ± one standard error"),
        "faults-only": _("A lower bound: write faults counted by BPF"),
    };

    const rateColumn = (key, prop, title) => ({
        key,
        title,
        numeric: true,
        value: p => measured(p[prop]) ? p[prop] : null,
        render: (td, p) => renderRate(td, p[prop], p[prop + "StdError"], p, key === "rate"),
    });

    const COLUMNS = [
        { key: "pid", title: _("PID"), numeric: true, value: p => p.PID, render: (td, p) => setText(td, String(p.PID)) },
        { key: "comm", title: _("Command"), value: p => p.Comm || "", render: (td, p) => setText(td, p.Comm || "") },
        {
            key: "unit",
            title: _("Unit"),
            value: p => p.Unit || "",
            render: (td, p) => {
                if (!td.firstChild)
                    td.append(el("span", { class: "dr-ellipsis" }));
                setText(td.firstChild, p.Unit || "—");
                td.title = p.Unit || "";
            },
        },
        {
            key: "backend",
            title: _("Backend"),
            value: p => p.Backend || "",
            render: (td, p) => {
                if (td.dataset.shown === p.Backend)
                    return;
                td.dataset.shown = p.Backend;
                td.replaceChildren(label(p.Backend, p.Backend === "page-sampling" || p.Backend === "faults-only" ? "blue" : "green",
                                         BACKEND_TITLES[p.Backend]));
            },
        },
        rateColumn("rate", "DirtyBytesPerSec", _("Dirty rate")),
        rateColumn("avg10", "DirtyBytesPerSecAvg10", _("Avg10")),
        rateColumn("avg60", "DirtyBytesPerSecAvg60", _("Avg60")),
        rateColumn("avg300", "DirtyBytesPerSecAvg300", _("Avg300")),
        {
            key: "faults",
            title: _("Write faults/s"),
            numeric: true,
            value: p => measured(p.WriteFaultsPerSec) ? p.WriteFaultsPerSec : null,
            render: (td, p) => {
                setText(td, formatCount(p.WriteFaultsPerSec));
                td.title = measured(p.WriteFaultsPerSec) ? "" : _("Write faults are not counted on this system");
            },
        },
    ];

    /* A rate, its ± under it; the last interval's rate is the disturbed
     * marker when someone else cleared the soft-dirty bits meanwhile (the
     * daemon then has no rate for it). */
    function renderRate(td, v, se, p, interval) {
        const disturbed = interval && p.LastSampleDisturbed;
        const text = formatRate(v);
        const err = formatStdError(v, se);
        const key = (disturbed ? "disturbed|" : "") + text + "|" + err;
        if (td.dataset.shown === key)
            return;
        td.dataset.shown = key;
        td.dataset.value = measured(v) ? String(v) : "";
        const children = disturbed
            ? [label(_("disturbed"), "orange")]
            : [el("span", { class: "dr-rate", text })];
        if (err && !disturbed)
            children.push(el("span", { class: "dr-se", text: err }));
        td.replaceChildren(...children);
        if (disturbed)
            td.title = cockpit.format(_("Not measured: someone else cleared this process's soft-dirty bits during the last interval ($0 foreign clears so far)"),
                                      p.ForeignClears);
        else if (!measured(v))
            td.title = _("Not measured yet");
        else if (p.Backend === "faults-only")
            td.title = _("A lower bound: memory written again after its first write fault is not seen");
        else
            td.title = err ? _("± one standard error of the estimate") : "";
    }

    /* ---- sorting, filtering, the URL ------------------------------------ */

    function compareRows(a, b) {
        const col = COLUMNS.find(c => c.key === state.sortKey) || COLUMNS[0];
        const va = col.value(a.props);
        const vb = col.value(b.props);
        /* Unmeasured values go last whichever way the column is sorted. */
        if (va === null && vb !== null)
            return 1;
        if (vb === null && va !== null)
            return -1;
        let r = 0;
        if (va !== null && vb !== null)
            r = col.numeric ? va - vb : String(va).localeCompare(String(vb));
        if (!state.sortAscending)
            r = -r;
        return r || a.props.PID - b.props.PID;
    }

    function matchesFilter(p) {
        const f = state.filter.trim().toLowerCase();
        if (!f)
            return true;
        return [String(p.PID), p.Comm, p.Unit, p.Backend, p.CGroup]
                .some(s => s && s.toLowerCase().includes(f));
    }

    function visibleRows() {
        const rows = [];
        for (const [path, props] of state.rows)
            if (matchesFilter(props))
                rows.push({ path, props });
        return rows.sort(compareRows);
    }

    function saveLocation() {
        const options = { sort: state.sortKey, order: state.sortAscending ? "ascending" : "descending" };
        if (state.filter)
            options.filter = state.filter;
        if (state.selectedPid !== null)
            options.pid = String(state.selectedPid);
        cockpit.location.replace([], options);
    }

    function loadLocation() {
        const o = cockpit.location.options;
        if (COLUMNS.some(c => c.key === o.sort))
            state.sortKey = o.sort;
        if (o.order === "ascending" || o.order === "descending")
            state.sortAscending = o.order === "ascending";
        state.filter = typeof o.filter === "string" ? o.filter : "";
        state.selectedPid = /^\d+$/.test(o.pid || "") ? Number(o.pid) : null;
    }

    /* ---- rendering -------------------------------------------------------- */

    let renderQueued = false;
    function queueRender() {
        if (renderQueued)
            return;
        renderQueued = true;
        /* Coalesces the burst of signals one pass brings. A timer, not
         * requestAnimationFrame: Cockpit hides inactive pages, which would
         * stall their frames. */
        window.setTimeout(() => {
            renderQueued = false;
            render();
        }, 0);
    }

    function render() {
        renderStatus();
        renderWarnings();
        renderTable();
        renderDetail();
    }

    function renderHeader() {
        const head = $("dr-table-head");
        head.replaceChildren();
        for (const col of COLUMNS) {
            const selected = col.key === state.sortKey;
            const th = el("th", {
                class: "pf-c-table__sort" + (selected ? " pf-m-selected" : "") + (col.numeric ? " dr-num" : ""),
                scope: "col",
                "aria-sort": selected ? (state.sortAscending ? "ascending" : "descending") : "none",
                "data-key": col.key,
            });
            const button = el("button", { class: "pf-c-table__button", type: "button" },
                              el("div", { class: "pf-c-table__button-content" },
                                 el("span", { class: "pf-c-table__text", text: col.title }),
                                 el("span", { class: "pf-c-table__sort-indicator", "aria-hidden": "true" },
                                    sortIcon(selected ? (state.sortAscending ? "up" : "down") : "both"))));
            button.addEventListener("click", () => {
                if (state.sortKey === col.key) {
                    state.sortAscending = !state.sortAscending;
                } else {
                    state.sortKey = col.key;
                    /* Numbers read best biggest first, names alphabetically. */
                    state.sortAscending = !col.numeric || col.key === "pid";
                }
                saveLocation();
                renderHeader();
                renderTable();
            });
            th.append(button);
            head.append(th);
        }
        head.append(el("td", { class: "dr-actions-head" }));
    }

    function sortIcon(which) {
        const up = "M5 0 L10 5 L0 5 Z";
        const down = "M5 14 L0 9 L10 9 Z";
        return svgEl("svg", { viewBox: "0 0 10 14", width: "8", height: "12", fill: "currentColor" },
                     svgEl("path", { d: which === "up" ? up : which === "down" ? down : up + " " + down }));
    }

    const rowElements = new Map();  /* object path -> <tr> */

    function createRow(path) {
        const tr = el("tr", { class: "pf-m-hoverable", tabindex: "0", "data-path": path });
        for (const col of COLUMNS)
            tr.append(el("td", { "data-label": col.title, "data-key": col.key, class: col.numeric ? "dr-num" : "" }));
        const untrack = el("button", {
            class: "pf-c-button pf-m-link pf-m-small dr-untrack",
            type: "button",
            text: _("Untrack"),
        });
        untrack.addEventListener("click", ev => {
            ev.stopPropagation();
            const props = state.rows.get(path);
            if (props)
                untrackProcess(props.PID);
        });
        tr.append(el("td", { class: "pf-c-table__action dr-actions" }, untrack));
        tr.addEventListener("click", () => selectProcess(path));
        tr.addEventListener("keydown", ev => {
            if (ev.key === "Enter" || ev.key === " ") {
                ev.preventDefault();
                selectProcess(path);
            }
        });
        return tr;
    }

    function renderTable() {
        const body = $("dr-table-body");
        const rows = visibleRows();
        const shown = new Set();
        let previous = null;

        for (const { path, props } of rows) {
            let tr = rowElements.get(path);
            if (!tr) {
                tr = createRow(path);
                rowElements.set(path, tr);
            }
            tr.dataset.pid = String(props.PID);
            COLUMNS.forEach((col, i) => col.render(tr.cells[i], props));
            const selected = props.PID === state.selectedPid;
            tr.classList.toggle("pf-m-selected", selected);
            tr.setAttribute("aria-selected", selected ? "true" : "false");
            tr.querySelector(".dr-untrack").disabled = state.pending.has(props.PID);

            /* Move only what is out of place: moving a row loses its focus. */
            const expected = previous ? previous.nextSibling : body.firstChild;
            if (expected !== tr)
                body.insertBefore(tr, expected);
            previous = tr;
            shown.add(path);
        }
        for (const [path, tr] of rowElements) {
            if (!shown.has(path)) {
                tr.remove();
                if (!state.rows.has(path))
                    rowElements.delete(path);
            }
        }

        const total = state.rows.size;
        setText($("dr-count"), state.filter && total
            ? cockpit.format(_("$0 of $1 shown"), rows.length, total)
            : "");
        $("dr-table").hidden = rows.length === 0;
        $("dr-empty").hidden = rows.length > 0;
        if (rows.length === 0) {
            if (total === 0) {
                setText($("dr-empty-title"), _("No process is tracked"));
                setText($("dr-empty-body"),
                        state.readAccess === "owner" && !administrative()
                            ? _("None of your processes is tracked. Track one by its PID above, or add a [Track] rule to /etc/dirtyrate/dirtyrated.conf.")
                            : _("Track a process by its PID above, or add a [Track] rule to /etc/dirtyrate/dirtyrated.conf."));
                $("dr-clear-filter").hidden = true;
            } else {
                setText($("dr-empty-title"), cockpit.format(_("No tracked process matches “$0”"), state.filter));
                setText($("dr-empty-body"), cockpit.format(cockpit.ngettext("$0 process is tracked.", "$0 processes are tracked.", total), total));
                $("dr-clear-filter").hidden = false;
            }
        }
    }

    /* ---- the service card and its warnings ------------------------------ */

    function renderStatus() {
        const m = state.manager;
        if (!m || !m.valid)
            return;
        setText($("dr-version"), m.Version || "—");
        const backend = $("dr-backend");
        if (backend.dataset.shown !== m.Backend) {
            backend.dataset.shown = m.Backend;
            backend.replaceChildren(label(m.Backend, null, BACKEND_TITLES[m.Backend]));
        }
        const features = (m.Features || []).slice().sort();
        const featuresKey = features.join(" ");
        const fnode = $("dr-features");
        if (fnode.dataset.shown !== featuresKey) {
            fnode.dataset.shown = featuresKey;
            fnode.replaceChildren(...(features.length
                ? features.map(f => label(f, "cyan"))
                : [el("span", { class: "dr-muted", text: _("none") })]));
        }
        setText($("dr-interval"), formatUSec(m.SampleIntervalUSec));
        setText($("dr-tracked"), String(m.TrackedProcesses));
        setText($("dr-read-access"), m.ReadAccess === "owner"
            ? _("each user their own processes (ReadAccess=owner)")
            : _("everyone (ReadAccess=all)"));
    }

    function makeAlert(variant, title, description, options) {
        const node = el("div", {
            class: "pf-c-alert pf-m-inline pf-m-" + variant,
            "aria-label": title,
            "data-alert": options && options.id,
        });
        node.append(el("div", { class: "pf-c-alert__icon" }, alertIcon(variant)));
        node.append(el("p", { class: "pf-c-alert__title" },
                       el("span", { class: "pf-u-screen-reader", text: variant + " alert:" }), title));
        if (options && options.onClose) {
            const close = el("button", { class: "pf-c-button pf-m-plain", type: "button", "aria-label": _("Close"), text: "×" });
            close.addEventListener("click", options.onClose);
            node.append(el("div", { class: "pf-c-alert__action" }, close));
        }
        if (description) {
            const body = el("div", { class: "pf-c-alert__description" });
            for (const d of [].concat(description))
                body.append(typeof d === "string" ? el("p", { text: d }) : d);
            node.append(body);
        }
        return node;
    }

    function alertIcon(variant) {
        /* A round mark in the alert's icon colour (PatternFly colours the
         * icon by the alert's kind): "!" for warnings and danger, "i" else. */
        const mark = svgEl("text", { x: "8", y: "12.5", "text-anchor": "middle" });
        mark.textContent = variant === "info" ? "i" : "!";
        return svgEl("svg", { viewBox: "0 0 16 16", width: "1em", height: "1em", "aria-hidden": "true", class: "dr-alert-mark" },
                     svgEl("circle", { cx: "8", cy: "8", r: "8", fill: "currentColor" }), mark);
    }

    function warnings() {
        const m = state.manager;
        const out = [];
        const features = new Set(m.Features || []);
        const softDirty = features.has("pagemap-ioctl") || features.has("clear-refs");

        if (!softDirty && m.Backend === "page-sampling") {
            out.push(["info", _("No soft-dirty tracking in this kernel: rates are sampled"),
                _("This kernel has no soft-dirty page tracking (CONFIG_MEM_SOFT_DIRTY), so dirtyrated estimates each process's rate by hashing a random sample of its resident pages at every pass (page-sampling). Each rate is an estimate and is shown with ± one standard error; a page rewritten with the same bytes is not seen.")]);
        } else if (!softDirty && m.Backend === "faults-only") {
            out.push(["warning", _("No soft-dirty tracking in this kernel: rates are write faults"),
                features.has("bpf-faults")
                    ? _("This kernel has no soft-dirty page tracking, and dirtyrated counts write faults instead (faults-only). That is a lower bound: memory written again after its first write fault is not seen.")
                    : _("This kernel has no soft-dirty page tracking, and the BPF fault counters are not loaded either: there are no rates to show.")]);
        } else if (m.Backend === "clear-refs") {
            out.push(["info", _("Stock soft-dirty tracking"),
                _("dirtyrated uses /proc/PID/clear_refs, which clears a whole process at once and is not atomic with the read: under heavy writing some writes between the read and the clear are missed, unless the kernel has the softdirty_clear tracepoint.")]);
        }
        if (!features.has("bpf-faults"))
            out.push(["info", _("Write faults are not counted"),
                _("dirtyrated could not load its BPF fault counters here (they need the kernel's BTF and CAP_BPF and CAP_PERFMON), so the Write faults/s column stays empty.")]);
        if (softDirty && !features.has("softdirty-tracepoint"))
            out.push(["info", _("Clears by other tools cannot be seen"),
                _("This kernel has no softdirty_clear tracepoint: if another tool (a CRIU pre-dump, another tracker) clears the soft-dirty bits of a tracked process, that interval reads too low and is not marked as disturbed.")]);

        const disturbed = [...state.rows.values()].filter(p => p.LastSampleDisturbed);
        if (disturbed.length)
            out.push(["warning", _("Someone else cleared soft-dirty bits"),
                cockpit.format(_("During the last interval another tool cleared the soft-dirty bits of $0. dirtyrated cannot know what was written then, so that interval's rate is not shown; it resumes with the next one. While dirtyrated tracks a process, the other tool's results are disturbed too."),
                               disturbed.map(p => cockpit.format("$0 ($1)", p.PID, p.Comm)).join(", "))]);

        if (m.ReadAccess === "owner" && !administrative())
            out.push(["info", _("You see only your own processes"),
                _("dirtyrated shows each user only the processes that user runs (ReadAccess=owner). Turn on administrative access, or ask for the polkit permission org.dirtyrate1.read-all, to see every tracked process.")]);
        return out;
    }

    let warningsKey = null;
    function renderWarnings() {
        if (!state.manager || !state.manager.valid)
            return;
        const list = warnings();
        const key = JSON.stringify(list);
        if (key === warningsKey)
            return;
        warningsKey = key;
        $("dr-warnings").replaceChildren(...list.map(([variant, title, text]) => makeAlert(variant, title, text)));
    }

    /* ---- Track and Untrack ---------------------------------------------- */

    function showActionError(title, text, details) {
        const box = $("dr-action-alert");
        const description = [text];
        if (details)
            description.push(el("p", { class: "dr-muted dr-details", text: cockpit.format(_("dirtyrated said: $0"), details) }));
        box.replaceChildren(makeAlert("danger", title, description, {
            id: "action-error",
            onClose: () => box.replaceChildren(),
        }));
    }

    function clearActionError() {
        $("dr-action-alert").replaceChildren();
    }

    /* The daemon's answer in words. Its own messages are already sentences;
     * a polkit refusal is said as what to do about it. */
    function describeError(ex, pid) {
        const name = ex && ex.name;
        if (name === ERROR_ACCESS_DENIED || name === ERROR_INTERACTIVE_AUTH || (ex && ex.problem === "access-denied")) {
            if (administrative())
                return _("dirtyrated refused the request although administrative access is on.");
            return _("You are not allowed to change which processes dirtyrated tracks. Turn on administrative access (at the top of the page) if you are an administrator, or ask one to grant you the polkit permission org.dirtyrate1.manage.");
        }
        if (name === ERROR_NO_SUCH_PROCESS)
            return cockpit.format(_("There is no process with PID $0."), pid);
        if (name === ERROR_NOT_TRACKED)
            return cockpit.format(_("PID $0 is not tracked (any more)."), pid);
        if (name === ERROR_NOT_SUPPORTED || name === ERROR_INVALID_ARGUMENT)
            return ex.message;
        return cockpit.message(ex);
    }

    function isDenial(ex) {
        return ex && (ex.name === ERROR_ACCESS_DENIED || ex.name === ERROR_INTERACTIVE_AUTH || ex.problem === "access-denied");
    }

    function managerCall(method, pid) {
        const generation = state.generation;
        return state.client.call(MANAGER_PATH, MANAGER_IFACE, method, [pid], { type: "u" })
                .then(reply => {
                    if (generation !== state.generation)
                        return null;
                    return reply;
                });
    }

    function trackProcess(pid) {
        clearActionError();
        state.pending.add(pid);
        $("dr-track-button").disabled = true;
        managerCall("TrackProcess", pid)
                .then(reply => {
                    $("dr-track-pid").value = "";
                    state.selectedPid = pid;
                    saveLocation();
                    if (reply && state.readAccess === "owner")
                        refreshOwnerView();
                    queueRender();
                })
                .catch(ex => showActionError(cockpit.format(_("Could not track PID $0"), pid), describeError(ex, pid),
                                             isDenial(ex) ? ex.message : null))
                .finally(() => {
                    state.pending.delete(pid);
                    $("dr-track-button").disabled = false;
                    queueRender();
                });
    }

    function untrackProcess(pid) {
        clearActionError();
        state.pending.add(pid);
        queueRender();
        managerCall("UntrackProcess", pid)
                .then(() => {
                    if (state.readAccess === "owner")
                        refreshOwnerView();
                })
                .catch(ex => showActionError(cockpit.format(_("Could not untrack PID $0"), pid), describeError(ex, pid),
                                             isDenial(ex) ? ex.message : null))
                .finally(() => {
                    state.pending.delete(pid);
                    queueRender();
                });
    }

    function onTrackSubmit(ev) {
        ev.preventDefault();
        const input = $("dr-track-pid");
        const text = input.value.trim();
        const pid = /^\d+$/.test(text) ? Number(text) : NaN;
        if (!(pid >= 1 && pid <= PID_MAX)) {
            input.setAttribute("aria-invalid", "true");
            showActionError(_("Not a process ID"),
                            cockpit.format(_("“$0” is not a process ID: enter a whole number between 1 and $1."), text, PID_MAX));
            return;
        }
        input.removeAttribute("aria-invalid");
        trackProcess(pid);
    }

    /* ---- the selected process: its plot and details --------------------- */

    function selectProcess(path) {
        const props = state.rows.get(path);
        if (!props)
            return;
        state.selectedPid = props.PID;
        saveLocation();
        renderTable();
        renderDetail();
    }

    function selectedRow() {
        if (state.selectedPid === null)
            return null;
        for (const props of state.rows.values())
            if (props.PID === state.selectedPid)
                return props;
        return null;
    }

    function renderDetail() {
        const props = selectedRow();
        const hint = $("dr-detail-hint");
        $("dr-detail-body").hidden = !props;
        hint.hidden = !!props;
        if (!props) {
            setText($("dr-detail-title"), _("Rate over time"));
            setText(hint, state.selectedPid !== null
                ? cockpit.format(_("PID $0 is not tracked any more. Select a process in the table to see its dirty rate over the last 5 minutes."), state.selectedPid)
                : _("Select a process in the table to see its dirty rate over the last 5 minutes."));
            return;
        }
        setText($("dr-detail-title"), cockpit.format(_("PID $0 · $1: dirty rate over the last 5 minutes"), props.PID, props.Comm));
        drawPlot($("dr-plot"), state.histories.get(identity(props)) || []);
        renderDetailList(props);
    }

    function renderDetailList(p) {
        const items = [
            [_("Unit"), p.Unit || "—"],
            [_("Control group"), p.CGroup || "—"],
            [_("User ID"), String(p.UID)],
            [_("Started"), formatTimestamp(p.StartTimestamp)],
            [_("Resident"), formatSize(p.ResidentBytes)],
            [_("Writable mappings scanned"), formatSize(p.ScannedBytes)],
            [_("Dirtied in total"), formatSize(p.DirtiedBytesTotal)],
            [_("Write faults in total"), formatCount(p.WriteFaultsTotal)],
            [_("Foreign clears"), formatCount(p.ForeignClears)],
            [_("Last pass"), formatTimestamp(state.manager && state.manager.valid ? state.manager.LastSampleTimestamp : p.LastSampleTimestamp)],
        ];
        if (p.Backend === "page-sampling")
            items.splice(6, 0, [_("Pages sampled per pass"), formatCount(p.SampledPages)]);
        const list = $("dr-detail-list");
        const key = JSON.stringify(items);
        if (list.dataset.shown === key)
            return;
        list.dataset.shown = key;
        list.replaceChildren(...items.map(([term, value]) =>
            el("div", { class: "pf-c-description-list__group" },
               el("dt", { class: "pf-c-description-list__term" }, el("span", { class: "pf-c-description-list__text", text: term })),
               el("dd", { class: "pf-c-description-list__description" }, el("div", { class: "pf-c-description-list__text", text: value })))));
    }

    /* An inline SVG: the rate of each interval, its ± one standard error as a
     * band, and Avg10, over the 5 minutes before the latest pass. Time comes
     * from the daemon (the Manager's LastSampleTimestamp at each pass's end),
     * not the browser's clock. */
    function drawPlot(svg, history) {
        /* Drawn at the size it is shown, so that the text is not stretched. */
        const W = Math.max(320, Math.round(svg.getBoundingClientRect().width) || 720), H = 200;
        const left = 72, right = 12, top = 10, bottom = 24;
        svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
        svg.replaceChildren();

        const points = history.filter(h => measured(h.rate) || measured(h.avg10));
        const end = history.length ? history[history.length - 1].t : 0;
        const start = end - PLOT_WINDOW_USEC;
        /* The scale follows the rates, not their error bands (clipped at
         * the top): one uncertain first interval must not flatten the rest. */
        let max = 0;
        for (const h of points)
            if (h.t >= start)
                max = Math.max(max, measured(h.rate) ? h.rate : 0, measured(h.avg10) ? h.avg10 : 0);
        /* Four grid steps of 1, 2 or 5 times a power of ten, in the unit of
         * the largest rate. */
        const unit = Math.pow(1024, scaleOf(max || 1));
        let step = Math.pow(10, Math.floor(Math.log10((max || unit) / unit / 4)));
        for (const m of [1, 2, 5, 10]) {
            if ((max || unit) / unit / (step * m) <= 4) {
                step *= m;
                break;
            }
        }
        const yMax = step * 4 * unit;
        const x = t => left + (t - start) / PLOT_WINDOW_USEC * (W - left - right);
        const y = v => top + (1 - Math.min(v, yMax) / yMax) * (H - top - bottom);

        for (let i = 0; i <= 4; i++) {
            const v = step * i * unit;
            svg.append(svgEl("line", { class: "dr-grid", x1: left, x2: W - right, y1: y(v), y2: y(v) }));
            const t = svgEl("text", { class: "dr-axis", x: left - 6, y: y(v) + 4, "text-anchor": "end" });
            t.textContent = `${+(step * i).toPrecision(3)} ${RATE_UNITS[scaleOf(unit)]}`;
            svg.append(t);
        }
        for (let min = 0; min <= 5; min++) {
            const t = svgEl("text", { class: "dr-axis", x: x(start + min * 60000000), y: H - 6, "text-anchor": min === 0 ? "start" : min === 5 ? "end" : "middle" });
            t.textContent = min === 5 ? _("now") : cockpit.format(_("−$0 min"), 5 - min);
            svg.append(t);
        }

        /* Runs of measured values; a gap (not measured, disturbed) breaks a line. */
        const runs = key => {
            const out = [];
            let run = [];
            for (const h of history) {
                if (h.t < start)
                    continue;
                if (measured(h[key])) {
                    run.push(h);
                } else if (run.length) {
                    out.push(run);
                    run = [];
                }
            }
            if (run.length)
                out.push(run);
            return out;
        };
        for (const run of runs("rate")) {
            if (run.some(h => measured(h.se) && h.se > 0)) {
                const upper = run.map(h => `${x(h.t).toFixed(1)},${y(h.rate + (h.se || 0)).toFixed(1)}`);
                const lower = run.slice().reverse().map(h => `${x(h.t).toFixed(1)},${y(Math.max(0, h.rate - (h.se || 0))).toFixed(1)}`);
                svg.append(svgEl("polygon", { class: "dr-band", points: upper.concat(lower).join(" ") }));
            }
        }
        for (const run of runs("avg10"))
            svg.append(svgEl("polyline", { class: "dr-line-avg", points: run.map(h => `${x(h.t).toFixed(1)},${y(h.avg10).toFixed(1)}`).join(" ") }));
        for (const run of runs("rate")) {
            const pts = run.map(h => `${x(h.t).toFixed(1)},${y(h.rate).toFixed(1)}`).join(" ");
            svg.append(svgEl("polyline", { class: "dr-line-rate", points: pts }));
            if (run.length === 1)
                svg.append(svgEl("circle", { class: "dr-dot-rate", cx: x(run[0].t), cy: y(run[0].rate), r: 2.5 }));
        }
        svg.dataset.points = String(points.length);
    }

    /* ---- the model: rows and their histories ----------------------------- */

    const identity = p => p.PID + ":" + p.StartTimestampBoottime;

    /* The row's values as of the pass that ended at t. */
    function recordSample(p, t) {
        if (!measured(t) || t <= 0)
            return;
        const key = identity(p);
        let h = state.histories.get(key);
        if (!h) {
            h = [];
            state.histories.set(key, h);
        }
        const last = h[h.length - 1];
        if (last && last.t >= t)
            return;
        h.push({
            t: t,
            rate: p.DirtyBytesPerSec,
            se: p.DirtyBytesPerSecStdError,
            avg10: p.DirtyBytesPerSecAvg10,
        });
        const horizon = t - PLOT_WINDOW_USEC - 10000000;
        let drop = 0;
        while (drop < h.length && h[drop].t < horizon)
            drop++;
        if (drop)
            h.splice(0, drop);
    }

    function updateRow(path, props) {
        const copy = Object.assign({}, props);
        state.rows.set(path, copy);
    }

    /* A pass ended at t (the Manager's LastSampleTimestamp): every row's
     * values are those of that pass, also those that sent no signal
     * because nothing changed (an idle process). */
    function recordPass(t) {
        for (const p of state.rows.values())
            recordSample(p, t);
    }

    function removeRow(path) {
        const p = state.rows.get(path);
        if (p)
            state.histories.delete(identity(p));
        state.rows.delete(path);
    }

    /* GetManagedObjects' answer: {path: {iface: {prop: {t, v}}}}. */
    function applyManagedObjects(objects) {
        const seen = new Set();
        for (const [path, ifaces] of Object.entries(objects || {})) {
            const variants = ifaces[PROCESS_IFACE];
            if (!variants || !path.startsWith(PROCESS_NAMESPACE + "/"))
                continue;
            const props = {};
            for (const [k, v] of Object.entries(variants))
                props[k] = v && typeof v === "object" && "v" in v ? v.v : v;
            updateRow(path, props);
            seen.add(path);
        }
        for (const path of [...state.rows.keys()])
            if (!seen.has(path))
                removeRow(path);
        queueRender();
    }

    /* ReadAccess=owner: no per-process signals exist, so each pass (the
     * Manager's LastSampleTimestamp) is answered with one read of what this
     * user may see. At most one call in flight; a pass that ends meanwhile
     * asks for one more. */
    function refreshOwnerView(passEnd) {
        const r = state.ownerRefresh;
        if (passEnd)
            r.passEnd = passEnd;   /* the plot's point, once the rows are read */
        if (r.running) {
            r.again = true;
            return;
        }
        r.running = true;
        const generation = state.generation, t = r.passEnd;
        r.passEnd = 0;
        state.client.call(MANAGER_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects", [])
                .then(([objects]) => {
                    if (generation === state.generation) {
                        applyManagedObjects(objects);
                        if (t)
                            recordPass(t);
                    }
                })
                .catch(ex => console.warn("GetManagedObjects failed:", cockpit.message(ex)))
                .finally(() => {
                    r.running = false;
                    if (r.again && generation === state.generation) {
                        r.again = false;
                        refreshOwnerView();
                    }
                });
    }

    function setReadAccess(mode) {
        if (mode === state.readAccess)
            return;
        state.readAccess = mode;
        if (mode === "owner") {
            refreshOwnerView();
        } else {
            /* Back to the proxies, which follow the signals. */
            state.rows.clear();
            for (const path of Object.keys(state.processes || {}))
                if (state.processes[path].valid)
                    updateRow(path, state.processes[path].data);
        }
        queueRender();
    }

    /* ---- connecting ------------------------------------------------------- */

    /* What the page shows and through which bridge, on <html> for anyone
     * who drives it (the ui suite waits on them). */
    function setDocumentState(key, value) {
        document.documentElement.dataset[key] = value;
    }

    function showState(which, reason) {
        setDocumentState("connection", which);
        $("dr-connecting").hidden = which !== "connecting";
        $("dr-unavailable").hidden = which !== "unavailable";
        $("dr-content").hidden = which !== "content";
        if (reason !== undefined)
            setText($("dr-unavailable-reason"), reason);
    }

    function disconnect() {
        state.generation++;
        if (state.client) {
            const c = state.client;
            state.client = null;
            c.close();
        }
        state.manager = null;
        state.processes = null;
        state.readAccess = null;
        state.rows.clear();
        state.ownerRefresh = { running: false, again: false };
        warningsKey = null;
    }

    function connect() {
        disconnect();
        const generation = state.generation;
        showState("connecting");

        const client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        state.client = client;
        setDocumentState("clientAccess", accessName());

        client.addEventListener("close", (ev, options) => {
            if (generation !== state.generation)
                return;
            state.client = null;
            showState("unavailable", cockpit.format(_("The connection to dirtyrated on the system bus closed: $0"),
                                                    cockpit.message(options && (options.message || options.problem) ? options : "disconnected")));
        });
        /* The daemon's unique name. A new one is a new daemon (a restart):
         * everything is read again, on a fresh client. */
        let owner;
        client.addEventListener("owner", (ev, name) => {
            if (generation !== state.generation)
                return;
            const before = owner;
            owner = name;
            if (name === null)
                showState("unavailable", _("Nothing owns org.dirtyrate1 on the system bus: is dirtyrated.service installed and running? (systemctl status dirtyrated.service)"));
            else if (before !== undefined && before !== name)
                connect();
        });

        const processes = client.proxies(PROCESS_IFACE, PROCESS_NAMESPACE);
        state.processes = processes;
        processes.addEventListener("changed", (ev, proxy) => {
            if (generation !== state.generation || state.readAccess === "owner" || !proxy.valid)
                return;
            updateRow(proxy.path, proxy.data);
            queueRender();
        });
        processes.addEventListener("removed", (ev, proxy) => {
            if (generation !== state.generation || state.readAccess === "owner")
                return;
            removeRow(proxy.path);
            queueRender();
        });

        const manager = client.proxy(MANAGER_IFACE, MANAGER_PATH);
        state.manager = manager;
        let lastPass = null;
        manager.addEventListener("changed", () => {
            if (generation !== state.generation || !manager.valid)
                return;
            setReadAccess(manager.ReadAccess);
            if (manager.LastSampleTimestamp !== lastPass) {
                /* A pass ended: with ReadAccess=all its signals are in. */
                lastPass = manager.LastSampleTimestamp;
                if (state.readAccess === "owner")
                    refreshOwnerView(lastPass);
                else
                    recordPass(lastPass);
            }
            queueRender();
        });

        manager.wait()
                .then(() => {
                    if (generation !== state.generation)
                        return;
                    if (!manager.valid) {
                        showState("unavailable", _("dirtyrated does not offer org.dirtyrate1.Manager at /org/dirtyrate1: is it the right version?"));
                        return;
                    }
                    lastPass = manager.LastSampleTimestamp;
                    setReadAccess(manager.ReadAccess);
                    for (const path of Object.keys(processes))
                        if (state.readAccess !== "owner" && processes[path].valid)
                            updateRow(path, processes[path].data);
                    showState("content");
                    render();
                })
                .catch(ex => {
                    if (generation === state.generation)
                        showState("unavailable", cockpit.format(_("Cannot reach dirtyrated: $0"), cockpit.message(ex)));
                });
    }

    /* Cockpit's administrative access: the bridge our channel goes through
     * changes between the user and root, so connect again. */
    function watchSuperuser() {
        const superuser = cockpit.dbus(null, { bus: "internal" }).proxy("cockpit.Superuser", "/superuser");
        superuser.addEventListener("changed", () => {
            const current = superuser.Current;
            if (current === "init" || current === state.superuser)
                return;
            const before = state.superuser;
            state.superuser = current;
            if (before !== null) {
                connect();
            } else {
                /* The first answer: the channel already open went through
                 * the bridge this says. */
                setDocumentState("clientAccess", accessName());
                queueRender();
            }
        });
    }

    /* Cockpit's light and dark styles, as its own pages follow them. */
    function followTheme() {
        const media = window.matchMedia("(prefers-color-scheme: dark)");
        const apply = style => {
            style = style || localStorage.getItem("shell:style") || "auto";
            const dark = style === "dark" || (style === "auto" && media.matches);
            document.documentElement.classList.toggle("pf-theme-dark", dark);
        };
        window.addEventListener("storage", ev => {
            if (ev.key === "shell:style")
                apply();
        });
        window.addEventListener("cockpit-style", ev => apply(ev.detail && ev.detail.style));
        media.addEventListener("change", () => apply());
        apply();
    }

    function init() {
        followTheme();
        loadLocation();
        const filter = $("dr-filter");
        filter.value = state.filter;
        filter.addEventListener("input", () => {
            state.filter = filter.value;
            saveLocation();
            renderTable();
        });
        $("dr-clear-filter").addEventListener("click", () => {
            filter.value = "";
            state.filter = "";
            saveLocation();
            renderTable();
            filter.focus();
        });
        $("dr-track-form").addEventListener("submit", onTrackSubmit);
        $("dr-reconnect").addEventListener("click", connect);
        window.addEventListener("resize", queueRender);
        renderHeader();
        watchSuperuser();
        connect();
    }

    cockpit.transport.wait(init);
}());
