// autofold's page script. It starts the flame graph's own script
// (inferno's, embedded with the SVG), links cycle frames to their
// sections, leaves the browser's find to work away from the graph, makes
// the cycle table's rows clickable, and lights up a box's calls in the
// call graph drawings. When it is done, <html> gets data-autofold-ready
// (and data-autofold-ready-ms: milliseconds since navigation began).
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("autofold-data").textContent);
  var flame = document.querySelector("svg." + data.flameGraphClass);
  var flameCycles = data.flameCycles; // those of the flame graph shown
  var pointerOverFlame = false;

  // The flame graph with a cycle unfolded: each cycle that has one keeps
  // it (gzipped SVG, base64) in a script element of its section; its
  // button swaps it in for the flame graph, and the page's own back.
  var folded = null; // the page's own flame graph, while another is shown
  var unfoldedName = null;

  function unfoldButtons() {
    document.querySelectorAll("button.unfold").forEach(function (button) {
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var name = button.getAttribute("data-unfold");
        (unfoldedName === name ? foldBack() : unfold(name)).then(showUnfolded);
      });
    });
    document.querySelectorAll("button.fold-back").forEach(function (button) {
      button.addEventListener("click", function () { foldBack().then(showUnfolded); });
    });
  }

  // After a swap: the unfolded members' widest frame in view (the graph
  // may be thousands of pixels tall), or the folded graph's top.
  function showUnfolded() {
    var widest = null, width = -1;
    document.querySelectorAll("#frames > g[data-unfolded-member] rect").forEach(function (rect) {
      var w = Number(rect.getAttribute("fg:w"));
      if (w > width) { widest = rect; width = w; }
    });
    if (widest) widest.scrollIntoView({ block: "center" });
    else flame.scrollIntoView({ block: "start" });
  }

  // The cycle unfolded, in the address (`?unfold=NAME`), so a link made
  // now reopens it.
  function rememberUnfolded(name) {
    var params = new URLSearchParams(window.location.search);
    if (name === null) params.delete("unfold");
    else params.set("unfold", name);
    history.replaceState(null, "", addressWith(params));
  }

  function unfold(name) {
    var holder = Array.from(document.querySelectorAll("script.unfolded-graph"))
      .find(function (s) { return s.getAttribute("data-cycle") === name; });
    return gunzipped(holder.textContent.trim()).then(function (text) {
      var parsed = new DOMParser().parseFromString(text, "image/svg+xml");
      var svg = document.importNode(parsed.documentElement, true);
      // inferno's script already runs on the page: not again.
      svg.querySelectorAll("script").forEach(function (script) { script.remove(); });
      if (!folded) folded = flame;
      show(svg, data.unfolded[name].flameCycles);
      colourMembers(data.unfolded[name].members);
      unfoldedName = name;
      pressed(name);
      rememberUnfolded(name);
    });
  }

  function foldBack() {
    show(folded, data.flameCycles);
    folded = null;
    unfoldedName = null;
    pressed(null);
    rememberUnfolded(null);
    return Promise.resolve();
  }

  function pressed(name) {
    document.querySelectorAll("button.unfold").forEach(function (button) {
      var on = button.getAttribute("data-unfold") === name;
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? "Fold it again" : "Unfold it in the flame graph";
    });
    document.getElementById("unfolded-bar").hidden = name === null;
    document.getElementById("unfolded-name").textContent = name === null ? "" : name;
  }

  // Puts `svg` where the flame graph is and starts inferno's script on it.
  function show(svg, cycles) {
    flame.replaceWith(svg);
    flame = svg;
    flameCycles = cycles;
    document.getElementById("flame-cycle").hidden = true;
    takeFlameState(); // the zoom and search were the other graph's
    init();
    linkCycleFrames();
  }

  // The unfolded members' frames in a lighter blue than cycle frames.
  function colourMembers(members) {
    var names = new Set(members);
    document.querySelectorAll("#frames > g").forEach(function (g) {
      var title = g.querySelector("title").textContent;
      var cut = title.lastIndexOf(" (");
      if (names.has(cut < 0 ? title : title.slice(0, cut))) {
        g.querySelector("rect").setAttribute("fill", "rgb(160,196,245)");
        g.setAttribute("data-unfolded-member", "");
      }
    });
  }

  function gunzipped(base64) {
    var bytes = Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }

  // The address's zoom (?x=…&y=…) and search (?s=…), as inferno's script
  // writes them. inferno finds the zoomed frame by a namespaced selector
  // that an HTML page does not match (`fg:x` is a plain attribute name
  // here), so they are taken out of the address before inferno starts and
  // applied afterwards, in inferno's order: zoom, then search.
  function startFlameGraph() {
    var state = takeFlameState();
    var params = new URLSearchParams(window.location.search);
    var unfoldName = params.get("unfold");
    var canUnfold = Array.from(document.querySelectorAll("script.unfolded-graph"))
      .some(function (s) { return s.getAttribute("data-cycle") === unfoldName; });
    init(); // inferno's; it finishes its own start one tick later
    setTimeout(function () {
      (canUnfold ? unfold(unfoldName) : Promise.resolve()).then(function () {
        setTimeout(function () { applyFlameState(state, new URLSearchParams(window.location.search)); }, 0);
      });
    }, 0);
  }

  // Applies a zoom and search taken from the address; then the page is ready.
  function applyFlameState(state, params) {
    if (state.x !== null && state.y !== null) {
      var rect = frameRect(state.x, state.y);
      if (rect) {
        var frame = find_group(rect);
        zoom(frame);
        showCycleOf(frame);
        params.set("x", state.x);
        params.set("y", state.y);
        history.replaceState(null, "", addressWith(params));
      }
    }
    if (state.s) search(state.s);
    selectMemberOfAddress();
    var html = document.documentElement;
    html.setAttribute("data-autofold-ready-ms", String(Math.round(performance.now())));
    html.setAttribute("data-autofold-ready", "true");
  }

  // Takes the zoom and search out of the address; returns them.
  function takeFlameState() {
    var params = new URLSearchParams(window.location.search);
    var state = { x: params.get("x"), y: params.get("y"), s: params.get("s") };
    ["x", "y", "s"].forEach(function (key) { params.delete(key); });
    history.replaceState(null, "", addressWith(params));
    return state;
  }

  function addressWith(params) {
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "") + window.location.hash;
  }

  // The flame graph's rectangle at inferno's zoom coordinates.
  function frameRect(x, y) {
    var rects = document.querySelectorAll("#frames rect");
    for (var i = 0; i < rects.length; i++) {
      if (rects[i].getAttribute("fg:x") === x && rects[i].getAttribute("y") === y) return rects[i];
    }
    return null;
  }

  // Cycle frames carry data-autofold-cycle, the cycle's index in
  // data.flameCycles; pointing at one (or clicking it) shows a link to its
  // section under the graph, double-clicking goes there.
  function cycleOf(frame) {
    var index = frame ? frame.getAttribute("data-autofold-cycle") : null;
    return index === null ? null : flameCycles[Number(index)] || null;
  }

  function showCycleOf(frame) {
    var cycle = cycleOf(frame);
    if (!cycle) return;
    var link = document.getElementById("flame-cycle-link");
    link.href = "#" + cycle.anchor;
    link.textContent = cycle.name;
    document.getElementById("flame-cycle-about").textContent = cycle.about;
    document.getElementById("flame-cycle").hidden = false;
  }

  function linkCycleFrames() {
    var frames = document.getElementById("frames");
    frames.addEventListener("mouseover", function (e) { showCycleOf(find_group(e.target)); });
    frames.addEventListener("click", function (e) {
      var frame = find_group(e.target);
      showCycleOf(frame);
      selectFrameMember(frame);
    });
    frames.addEventListener("dblclick", function (e) {
      var cycle = cycleOf(find_group(e.target));
      if (cycle) window.location.hash = cycle.anchor;
    });
    flame.addEventListener("mouseenter", function () { pointerOverFlame = true; });
    flame.addEventListener("mouseleave", function () { pointerOverFlame = false; });
  }

  // inferno takes Ctrl+F (and F3) for its search everywhere; on this page
  // only over the graph, so the browser's find works in the rest.
  function shareFind() {
    window.addEventListener("keydown", function (e) {
      var find = e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70);
      if (find && !pointerOverFlame) e.stopImmediatePropagation();
    }, true);
  }

  // Trivial self-recursions and cycles under 1 % wait behind one button.
  function showAll() {
    document.querySelectorAll("button.show-all").forEach(function (button) {
      var table = button.closest("table");
      var all = button.textContent;
      button.addEventListener("click", function () {
        var collapsed = table.classList.toggle("collapsed");
        button.setAttribute("aria-expanded", String(!collapsed));
        button.textContent = collapsed ? all : "Show the main cycles only";
      });
    });
  }

  function clickableRows() {
    document.querySelectorAll("tr[data-href]").forEach(function (row) {
      row.addEventListener("click", function (e) {
        if (e.target.closest("a")) return;
        window.location.hash = row.getAttribute("data-href");
      });
    });
  }

  // Pointing at a box of a drawing lights up its calls and the boxes at
  // their other ends.
  function lightCalls() {
    document.querySelectorAll("svg.call-graph").forEach(function (svg) {
      svg.addEventListener("mouseover", function (e) {
        var node = e.target.closest(".node");
        if (!node) return;
        var index = node.getAttribute("data-node");
        svg.classList.add("focused");
        node.classList.add("lit");
        svg.querySelectorAll(".edge").forEach(function (edge) {
          var from = edge.getAttribute("data-from"), to = edge.getAttribute("data-to");
          if (from !== index && to !== index) return;
          edge.classList.add("lit");
          svg.querySelectorAll('.node[data-node="' + (from === index ? to : from) + '"]')
            .forEach(function (other) { other.classList.add("lit"); });
        });
      });
      svg.addEventListener("mouseout", function (e) {
        if (!e.target.closest(".node")) return;
        svg.classList.remove("focused");
        svg.querySelectorAll(".lit").forEach(function (lit) { lit.classList.remove("lit"); });
      });
    });
  }

  // A drawing wider than its frame scrolls sideways in it, never shrunk:
  // it opens with its main entry member in the middle.
  function centreMainMembers() {
    document.querySelectorAll(".drawing-frame").forEach(function (frame) {
      var main = frame.querySelector("svg.call-graph .node[data-main] rect");
      if (!main || frame.scrollWidth <= frame.clientWidth) return;
      var box = main.getBoundingClientRect(), own = frame.getBoundingClientRect();
      var centre = box.left + box.width / 2 - own.left + frame.scrollLeft;
      frame.scrollLeft = centre - frame.clientWidth / 2;
    });
  }

  // Cycle frames are labelled with their short names (display_name.rs)
  // wherever inferno labels frames from their titles.
  function shortLabels() {
    var original = window.update_text_for_elements;
    if (typeof original !== "function") return;
    window.update_text_for_elements = function (elements) {
      original(elements);
      for (var i = 0; i < elements.length; i++) relabel(elements[i]);
    };
    var single = window.update_text;
    window.update_text = function (e) { single(e); relabel(e); };
  }

  function relabel(g) {
    var cycle = cycleOf(g);
    if (!cycle || cycle.short === cycle.name) return;
    var rect = g.querySelector("rect"), text = g.querySelector("text");
    var width = parseFloat(rect.getAttribute("width")) *
      document.getElementById("frames").getAttribute("width") / 100 - 3;
    var charWidth = (window.known_font_width || 0) || 7;
    var fits = Math.floor(width / charWidth);
    if (fits < 3) text.textContent = "";
    else if (cycle.short.length <= fits) text.textContent = cycle.short;
    else text.textContent = cycle.short.slice(0, fits - 2) + "..";
  }

  // Clicking a member's box in a drawing selects its row in the member
  // table.
  function selectableMembers() {
    document.querySelectorAll("section.cycle").forEach(function (section) {
      section.querySelectorAll("svg.call-graph .node.member").forEach(function (node) {
        node.addEventListener("click", function () {
          selectMember(section, node.getAttribute("data-member"));
        });
      });
    });
  }

  // The keyboard: Tab reaches the table's rows, the drawings' member boxes
  // and the flame graph's frames; Enter opens a row, selects a box's
  // member, zooms into a frame (as a click does); Esc resets the zoom and
  // the search, in the view and in the address.
  function keyboard() {
    document.querySelectorAll("tr[data-href], svg.call-graph .node.member, #frames > g")
      .forEach(function (el) { el.setAttribute("tabindex", "0"); });
    document.addEventListener("keydown", function (e) {
      var el = document.activeElement;
      if (e.key === "Enter" && el && el.matches("tr[data-href], svg.call-graph .node.member, #frames > g")) {
        e.preventDefault();
        el.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      } else if (e.key === "Escape") {
        resetView();
      }
    });
  }

  function resetView() {
    if (typeof unzoom === "function") unzoom();
    if (typeof searching !== "undefined" && searching && typeof search_prompt === "function") {
      search_prompt();
    }
    var params = new URLSearchParams(window.location.search);
    ["x", "y", "s"].forEach(function (key) { params.delete(key); });
    var query = params.toString();
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  function selectMember(section, index) {
    var row = Array.from(section.querySelectorAll("tr[data-member]"))
      .find(function (r) { return r.getAttribute("data-member-index") === index; });
    if (row) selectRow(row, "nearest");
  }

  // The member row named `name`, in the section of cycle `cycle` where
  // given: two functions that print alike (two instances of one generic)
  // can be members of two cycles.
  function memberRow(name, cycle) {
    return membersNamed(name).find(function (row) {
      return cycle === undefined || cycle === null ||
        row.closest("section.cycle").getAttribute("data-cycle-section") === cycle;
    }) || null;
  }

  function membersNamed(name) {
    return Array.from(document.querySelectorAll("tr[data-member]"))
      .filter(function (row) { return row.getAttribute("data-member") === name; });
  }

  // Selects `row` in its member table (and no other row of the page),
  // opens the table, scrolls the row into view (`block` as scrollIntoView
  // takes it; null leaves the page where it is) and keeps the member in
  // the address (`?member=NAME`), so a link reopens it.
  function selectRow(row, block) {
    var details = row.closest("details.members");
    if (details) details.open = true;
    document.querySelectorAll("tr[data-member]").forEach(function (r) {
      r.setAttribute("aria-selected", String(r === row));
    });
    if (block) row.scrollIntoView({ block: block });
    // `?member=NAME`, and its cycle (`&member-of=CYCLE`) only where
    // another cycle has a member of that name.
    var name = row.getAttribute("data-member");
    var params = new URLSearchParams(window.location.search);
    params.set("member", name);
    if (membersNamed(name).length > 1) {
      params.set("member-of", row.closest("section.cycle").getAttribute("data-cycle-section"));
    } else {
      params.delete("member-of");
    }
    history.replaceState(null, "", addressWith(params));
  }

  // The member selected in the address, selected again on load.
  function selectMemberOfAddress() {
    var params = new URLSearchParams(window.location.search);
    var name = params.get("member");
    var row = name === null ? null : memberRow(name, params.get("member-of"));
    if (row) selectRow(row, "center");
  }

  // A frame of an unfolded member (in a cycle's unfolded flame graph)
  // selects the member's row when clicked; the page stays on the graph,
  // which the click zooms.
  function selectFrameMember(frame) {
    if (!frame || !frame.hasAttribute("data-unfolded-member")) return;
    var row = memberRow(frameName(frame), unfoldedName);
    if (row) selectRow(row, null);
  }

  // A frame's function: its title without the final `(N samples, P%)`.
  function frameName(frame) {
    var title = frame.querySelector("title").textContent;
    var cut = title.lastIndexOf(" (");
    return cut < 0 ? title : title.slice(0, cut);
  }

  // A search matches a cycle frame by its members' own samples, not by
  // the whole cycle's: the frame counts for the share of the cycle's
  // stacks through the members the term matches (all of it when it
  // matches every member, or the cycle's name and no member), and the
  // members matched are listed under the graph with their own figures.
  function memberSearch() {
    var inferno = window.search, infernoReset = window.reset_search;
    if (typeof inferno !== "function" || typeof infernoReset !== "function") return;
    window.search = function (term) {
      inferno(term);
      var matched = searchedMembers(new RegExp(term));
      if (matched && !searching) searchedOnlyMembers(term);
    };
    window.reset_search = function () {
      infernoReset();
      document.getElementById("search-members").hidden = true;
    };
  }

  function searchedMembers(re) {
    var matches = {}, widest = 0, approximate = false, listed = [];
    var seen = new Set();
    Array.from(document.getElementById("frames").children).forEach(function (g) {
      var rect = g.querySelector("rect");
      if (!rect || g.classList.contains("hide") || g.classList.contains("parent")) return;
      var w = Number(rect.getAttribute("fg:w")), x = Number(rect.getAttribute("fg:x"));
      widest = Math.max(widest, w);
      var cycle = cycleOf(g), share;
      if (cycle) {
        var found = matchedMembers(cycle, re);
        share = found.share;
        approximate = approximate || found.approximate;
        if (!seen.has(cycle.name)) {
          seen.add(cycle.name);
          found.members.forEach(function (m) { listed.push({ member: m, cycle: cycle }); });
        }
        if (share > 0) { orig_save(rect, "fill"); rect.setAttribute("fill", searchcolor); }
        else orig_load(rect, "fill");
      } else {
        share = g.querySelector("title").textContent.match(re) ? 1 : 0; // as inferno matches
      }
      if (share > 0 && (!matches[x] || w > matches[x].w)) matches[x] = { w: w, counted: w * share };
    });
    var count = 0, end = -1;
    Object.keys(matches).map(Number).sort(function (a, b) { return a - b; }).forEach(function (x) {
      if (x < end) return;
      count += matches[x].counted;
      end = x + matches[x].w;
    });
    var pct = widest ? 100 * count / widest : 0;
    if (count > 0) {
      matchedtxt.firstChild.nodeValue = "Matched: " + (approximate ? "at most " : "") +
        (pct === 100 ? "100" : pct.toFixed(1)) + "%";
    }
    listMatchedMembers(listed);
    return count > 0;
  }

  // A term that matches only members no frame's title lists (a tooltip
  // lists 16): inferno found nothing, so its search state is set here.
  function searchedOnlyMembers(term) {
    searching = 1;
    searchbtn.classList.add("show");
    searchbtn.firstChild.nodeValue = "Reset Search";
    matchedtxt.classList.remove("hide");
    var params = new URLSearchParams(window.location.search);
    params.set("s", term);
    history.replaceState(null, "", addressWith(params));
  }

  // The members of `cycle` whose names `re` matches, and the share of the
  // cycle's stacks they are on.
  function matchedMembers(cycle, re) {
    var members = cycle.members.filter(function (m) { return re.test(m.name); });
    if (members.length === 0) return { members: [], share: re.test(cycle.name) ? 1 : 0, approximate: false };
    if (members.length === cycle.members.length || cycle.samples === 0) {
      return { members: members, share: 1, approximate: false };
    }
    var total = members.reduce(function (sum, m) { return sum + m.total; }, 0);
    return {
      members: members,
      share: Math.min(1, total / cycle.samples),
      approximate: members.length > 1,
    };
  }

  function listMatchedMembers(listed) {
    var line = document.getElementById("search-members");
    line.textContent = "";
    if (listed.length === 0) { line.hidden = true; return; }
    var all = allSamples();
    line.appendChild(document.createTextNode("Members matched, by their own samples: "));
    listed.slice(0, 12).forEach(function (item, i) {
      if (i > 0) line.appendChild(document.createTextNode("; "));
      var link = document.createElement("a");
      link.href = "#" + item.cycle.anchor;
      link.textContent = item.member.name;
      link.addEventListener("click", function (e) {
        var row = memberRow(item.member.name, item.cycle.name);
        if (!row) return;
        e.preventDefault();
        selectRow(row, "center");
      });
      line.appendChild(link);
      line.appendChild(document.createTextNode(
        " (in " + item.cycle.short + ": total " + percentOf(item.member.total, all) +
        ", self " + percentOf(item.member.self, all) + ")"));
    });
    if (listed.length > 12) line.appendChild(document.createTextNode("; and " + (listed.length - 12) + " more"));
    line.hidden = false;
  }

  // The samples of the whole graph: its widest frame's.
  function allSamples() {
    var widest = 0;
    document.querySelectorAll("#frames rect").forEach(function (rect) {
      widest = Math.max(widest, Number(rect.getAttribute("fg:w")));
    });
    return widest;
  }

  function percentOf(samples, all) {
    return (all ? (100 * samples / all).toFixed(1) : "0") + " %";
  }

  shortLabels();
  memberSearch();
  selectableMembers();
  linkCycleFrames();
  centreMainMembers();
  unfoldButtons();
  shareFind();
  clickableRows();
  showAll();
  keyboard();
  lightCalls();
  startFlameGraph();
})();
