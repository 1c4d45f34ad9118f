//! Headless Chromium for the tests: finding it (a missing one fails the
//! test, saying what to install, unless `AUTOFOLD_SKIP_BROWSER_TESTS=1`),
//! and driving it through the DevTools protocol over a pipe
//! (`--remote-debugging-pipe`: JSON messages ended by a NUL byte, read on
//! the browser's descriptor 3, written on its descriptor 4), so a test can
//! load a page or a flame graph, run script in it, read the DOM its
//! scripts left, click where a person would click, answer a `prompt()` and
//! read every script error the page raised.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use super::tools::{Kind, tool};

/// How long one step (a load, a script, a click) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The viewport every page is shown in, in CSS pixels.
const VIEWPORT: (u32, u32) = (1400, 900);

/// The Chromium binary (`$CHROMIUM`, else `chromium` or `chromium-browser`
/// on `PATH`), or `None` where there is none and
/// `AUTOFOLD_SKIP_BROWSER_TESTS=1`; otherwise a missing Chromium fails the
/// test, saying what to install.
fn chromium() -> Option<PathBuf> {
    tool(
        Kind::Browser,
        &["chromium", "chromium-browser"],
        "CHROMIUM",
        "apt-get install chromium",
    )
}

/// The switches every headless Chromium of the tests gets: no sandbox (the
/// tests may run as root), no GPU, nothing fetched from the network, no
/// first-run pages.
const HEADLESS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// A headless Chromium driven over the DevTools protocol, with one page.
pub struct Browser {
    child: Child,
    to_browser: std::io::PipeWriter,
    from_browser: Receiver<Value>,
    /// Messages read while waiting for another: events, kept in order.
    events: Vec<Value>,
    next_id: u64,
    session: String,
    _profile: TempDir,
}

impl Browser {
    /// Starts Chromium with one blank page, or `None` where there is no
    /// Chromium and `AUTOFOLD_SKIP_BROWSER_TESTS=1` (said so).
    pub fn launch() -> Option<Browser> {
        let binary = chromium()?;
        let profile = TempDir::new().unwrap();
        let (browser_reads, to_browser) = std::io::pipe().unwrap();
        let (from_browser, browser_writes) = std::io::pipe().unwrap();
        let (read_fd, write_fd) = (browser_reads.as_raw_fd(), browser_writes.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args(HEADLESS)
            .args(["--hide-scrollbars", "--remote-debugging-pipe"])
            .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                for (fd, target) in [(read_fd, 3), (write_fd, 4)] {
                    if fd == target {
                        libc::fcntl(fd, libc::F_SETFD, 0);
                    } else if libc::dup2(fd, target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop((browser_reads, browser_writes));
        let (sender, receiver) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_browser);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        message.pop();
                        let value: Value =
                            serde_json::from_slice(&message).expect("JSON from chromium");
                        if sender.send(value).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            to_browser,
            from_browser: receiver,
            events: Vec::new(),
            next_id: 1,
            session: String::new(),
            _profile: profile,
        };
        browser.open_page();
        Some(browser)
    }

    /// Creates the page and attaches to it, with events on.
    fn open_page(&mut self) {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        self.session = attached["sessionId"].as_str().unwrap().to_string();
        for method in ["Page.enable", "Runtime.enable"] {
            self.command(method, json!({}));
        }
        self.command(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
        );
    }

    /// Shows the page in a viewport `width` by `height` CSS pixels.
    pub fn set_viewport(&mut self, width: u32, height: u32) {
        self.command(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
    }

    /// Tells the page the reader's system prefers a dark colour scheme
    /// (`prefers-color-scheme: dark`), as a dark desktop does.
    pub fn prefer_dark(&mut self) {
        self.command(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        );
    }

    /// Loads autofold's HTML page `path`, with `suffix` (a query or a
    /// fragment) after it, and waits until the page's script says it is
    /// ready (`data-autofold-ready` on `<html>`).
    pub fn load_file(&mut self, path: &Path, suffix: &str) {
        // The page shown before may be ready too: it is not the one loaded.
        self.eval("document.documentElement && document.documentElement.removeAttribute('data-autofold-ready')");
        self.navigate(path, suffix);
        self.wait_for("document.documentElement.getAttribute('data-autofold-ready') === 'true'");
    }

    /// The DOM of the flame graph `svg` (inferno's SVG, with `query` such
    /// as `?x=…&y=…` or `?s=…` after its address) once its script has run:
    /// loaded, then past the timer in which inferno's script relabels the
    /// frames and applies the query.
    pub fn flame_graph_dom(&mut self, svg: &Path, query: &str) -> String {
        // The document shown before is complete too: it is marked, and the
        // new one is not. inferno's `init` (run on load) sets `searching`.
        self.eval("window.autofoldShownBefore = true");
        self.navigate(svg, query);
        self.wait_for(
            "!window.autofoldShownBefore && document.readyState === 'complete' \
             && typeof searching === 'number'",
        );
        let dom = self.eval(
            "new Promise(done => setTimeout(() => \
               done(new XMLSerializer().serializeToString(document)), 100))",
        );
        dom.as_str().expect("the DOM as text").to_string()
    }

    /// Shows the file `path` (`suffix` after its address); script errors
    /// read from now on are the new page's.
    fn navigate(&mut self, path: &Path, suffix: &str) {
        self.open(&format!("file://{}{suffix}", path.display()));
    }

    /// Shows the page at `url` (a page served on 127.0.0.1, say); script
    /// errors read from now on are the new page's. Returns at once: wait
    /// for what the page shows with [`Browser::wait_for`].
    pub fn open(&mut self, url: &str) {
        self.events.clear();
        self.command("Page.navigate", json!({"url": url}));
    }

    /// The value of the script `expression` in the page (awaited if it is a
    /// promise); fails the test if it throws.
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.command(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits until the script `condition` is true in the page (while a page
    /// loads, a condition that throws is taken for false).
    pub fn wait_for(&mut self, condition: &str) {
        let started = Instant::now();
        let script = format!(
            "(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()"
        );
        while self.eval(&script) != json!(true) {
            assert!(
                started.elapsed() < STEP_TIMEOUT,
                "waited {STEP_TIMEOUT:?} for {condition}; script errors: {:?}",
                self.script_errors()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The centre of the element `selector` (the first that matches),
    /// scrolled into view, in viewport pixels. Two frames pass after a
    /// scroll, so that the browser's input routing sees it too; a scroll
    /// that did not hold (the page scrolled meanwhile) is made again.
    pub fn centre_of(&mut self, selector: &str) -> (f64, f64) {
        let script = format!(
            "(async () => {{ const e = document.querySelector({selector:?}); if (!e) return null; \
             for (let attempt = 0; attempt < 20; attempt++) {{ \
               const r = e.getBoundingClientRect(); \
               const [x, y] = [r.x + r.width / 2, r.y + r.height / 2]; \
               if (attempt > 0 && y >= 0 && y < innerHeight && x >= 0 && x < innerWidth) return [x, y]; \
               if (y < 0 || y >= innerHeight) window.scrollBy(0, y - innerHeight / 2); \
               if (x < 0 || x >= innerWidth) window.scrollBy(x - innerWidth / 2, 0); \
               await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done))); \
             }} \
             return 'never in view'; }})()"
        );
        let centre = self.eval(&script);
        assert!(!centre.is_null(), "nothing matches {selector}");
        assert!(centre.is_array(), "{selector} is {centre}");
        (centre[0].as_f64().unwrap(), centre[1].as_f64().unwrap())
    }

    /// Moves the mouse onto the element `selector` and clicks it, as a
    /// person would (mouse moved, pressed, released).
    pub fn click(&mut self, selector: &str) {
        let (x, y) = self.centre_of(selector);
        for event in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.command("Input.dispatchMouseEvent", mouse(event, x, y));
        }
    }

    /// Clicks `selector`, which opens a `prompt()`, and answers it with
    /// `answer`.
    pub fn click_and_answer(&mut self, selector: &str, answer: &str) {
        let (x, y) = self.centre_of(selector);
        self.command("Input.dispatchMouseEvent", mouse("mouseMoved", x, y));
        self.command("Input.dispatchMouseEvent", mouse("mousePressed", x, y));
        // The release opens the prompt, which holds the answer until it is
        // closed.
        let release = self.send(
            Some(self.session.clone()),
            "Input.dispatchMouseEvent",
            mouse("mouseReleased", x, y),
        );
        self.wait_message(|m| m["method"] == "Page.javascriptDialogOpening");
        self.command(
            "Page.handleJavaScriptDialog",
            json!({"accept": true, "promptText": answer}),
        );
        self.wait_message(|m| m["id"] == release);
    }

    /// Every script error the page raised since it was loaded: uncaught
    /// exceptions, and errors written to the console.
    pub fn script_errors(&mut self) -> Vec<String> {
        while let Ok(message) = self.from_browser.try_recv() {
            self.events.push(message);
        }
        self.events
            .iter()
            .filter_map(|event| match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => {
                    Some(event["params"]["exceptionDetails"].to_string())
                }
                Some("Runtime.consoleAPICalled") if event["params"]["type"] == "error" => {
                    Some(event["params"]["args"].to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// Sends `method` to the page and waits for its result.
    fn command(&mut self, method: &str, params: Value) -> Value {
        let session = Some(self.session.clone());
        self.call(session, method, params)
    }

    /// Sends `method` (to the browser, or to `session`) and waits for its result.
    fn call(&mut self, session: Option<String>, method: &str, params: Value) -> Value {
        let id = self.send(session, method, params);
        let reply = self.wait_message(|m| m["id"] == id);
        if let Some(error) = reply.get("error") {
            panic!("{method}: {error}");
        }
        reply["result"].clone()
    }

    /// Sends `method`; returns its id.
    fn send(&mut self, session: Option<String>, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .expect("chromium reads its pipe");
        id
    }

    /// The first message (from now on) that `wanted` accepts; the others
    /// are kept as events.
    fn wait_message(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.events.push(message),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("chromium did not answer in {STEP_TIMEOUT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => panic!("chromium closed its pipe"),
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mouse event at (x, y): a move with no button down, or the left
/// button pressed or released.
fn mouse(kind: &str, x: f64, y: f64) -> Value {
    let (button, buttons) = match kind {
        "mouseMoved" => ("none", 0),
        "mousePressed" => ("left", 1),
        _ => ("left", 0),
    };
    json!({"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "clickCount": 1})
}
