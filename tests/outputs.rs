//! Every kind of output target, as root and as an ordinary user: a device
//! is written into and never replaced, a named pipe's reader gets the bytes,
//! a socket's peer gets them, `/dev/stdout` reaches standard output, a link
//! keeps pointing at the rewritten file, a file keeps its mode and owner,
//! and an input is never written over, also through a link.
//!
//! Run as root, each case runs twice: as root, and as `nobody` (through
//! `setpriv`). Run as an ordinary user, each runs once, as that user.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{AUTOFOLD, fixture};

/// The profile every case folds, and what `fold` writes for it.
const INPUT: &str = "p;main;even;odd;even;odd;work 3\np;main;even;odd;work 2\n";
const FOLDED: &str = "p;main;{even,odd};work 5\n";

/// Who runs autofold.
#[derive(Debug, Clone, Copy, PartialEq)]
enum As {
    /// This process's user (root in CI).
    Me,
    /// `nobody`, when this process is root.
    Nobody,
}

/// The users to try: root and nobody when root, else only this user.
fn users() -> Vec<As> {
    if is_root() && Path::new("/usr/bin/setpriv").exists() {
        vec![As::Me, As::Nobody]
    } else {
        vec![As::Me]
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether setpriv could not exec the copy of autofold because a child
/// still held it open for writing.
fn text_file_busy(out: &Output) -> bool {
    String::from_utf8_lossy(&out.stderr).contains("Text file busy")
}

/// A directory every user may write, with the input profile and a copy of
/// autofold that every user may run (the build directory may be private).
struct Place {
    dir: tempfile::TempDir,
    autofold: PathBuf,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let autofold = dir.path().join("autofold");
        fs::copy(AUTOFOLD, &autofold).unwrap();
        fs::set_permissions(&autofold, fs::Permissions::from_mode(0o755)).unwrap();
        let place = Place { dir, autofold };
        fs::write(place.path("in.folded"), INPUT).unwrap();
        fs::set_permissions(place.path("in.folded"), fs::Permissions::from_mode(0o644)).unwrap();
        place
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs autofold with `args` in the directory, as `who`.
    fn run(&self, who: As, args: &[&str]) -> Output {
        let mut command = match who {
            As::Me => Command::new(&self.autofold),
            As::Nobody => {
                let mut c = Command::new("/usr/bin/setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
                c.arg(&self.autofold);
                c
            }
        };
        command.args(args).current_dir(self.dir.path());
        // The copy of autofold was written moments ago: a child another
        // test forked meanwhile may still hold it open for writing until it
        // execs, and then this exec fails with "Text file busy" (directly,
        // or through setpriv). It passes once that child has exec'd.
        for _ in 0..50 {
            match command.output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {}
                Ok(out) if !out.status.success() && text_file_busy(&out) => {}
                done => return done.unwrap(),
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("autofold stayed \"Text file busy\" for a second");
    }

    /// Runs autofold and expects success.
    fn run_ok(&self, who: As, args: &[&str]) -> Output {
        let output = self.run(who, args);
        assert!(
            output.status.success(),
            "autofold {args:?} as {who:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

#[test]
fn dev_null_stays_a_device() {
    let before = fs::metadata("/dev/null").unwrap();
    assert!(before.file_type().is_char_device());
    for who in users() {
        let place = Place::new();
        let out = place.run_ok(
            who,
            &[
                "fold",
                "in.folded",
                "-o",
                "/dev/null",
                "--svg",
                "/dev/null",
                "--report",
                "/dev/null",
                "--pprof",
                "/dev/null",
            ],
        );
        assert!(out.stdout.is_empty());
        let after = fs::metadata("/dev/null").unwrap();
        assert!(after.file_type().is_char_device(), "as {who:?}");
        assert_eq!((after.ino(), after.rdev()), (before.ino(), before.rdev()));
        // Nothing was left beside it either.
        let leftovers: Vec<_> = fs::read_dir("/dev")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".autofold"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn dev_stdout_and_dev_fd_reach_standard_output() {
    for who in users() {
        let place = Place::new();
        for target in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
            let out = place.run_ok(who, &["fold", "in.folded", "-o", target]);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                FOLDED,
                "{target} as {who:?}"
            );
        }
        assert!(
            fs::symlink_metadata("/dev/stdout")
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn a_named_pipes_reader_gets_the_bytes() {
    for who in users() {
        let place = Place::new();
        let fifo = place.path("pipe");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates the pipe.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o666) }, 0);
        fs::set_permissions(&fifo, fs::Permissions::from_mode(0o666)).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                fs::File::open(fifo)
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap();
                text
            })
        };
        place.run_ok(who, &["fold", "in.folded", "-o", "pipe"]);
        assert_eq!(reader.join().unwrap(), FOLDED, "as {who:?}");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}

#[test]
fn a_sockets_peer_gets_the_bytes() {
    for who in users() {
        let place = Place::new();
        let path = place.path("sock");
        let listener = UnixListener::bind(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
        let peer = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        });
        place.run_ok(who, &["fold", "in.folded", "-o", "sock"]);
        assert_eq!(peer.join().unwrap(), FOLDED, "as {who:?}");
        assert!(fs::metadata(&path).unwrap().file_type().is_socket());
    }
}

#[test]
fn a_link_keeps_pointing_at_the_file_it_names() {
    for who in users() {
        let place = Place::new();
        fs::create_dir(place.path("real")).unwrap();
        fs::set_permissions(place.path("real"), fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(place.path("real/out.folded"), "old\n").unwrap();
        fs::set_permissions(
            place.path("real/out.folded"),
            fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        std::os::unix::fs::symlink("real/out.folded", place.path("link")).unwrap();
        // A link to a file not there yet: the file is made where it points.
        std::os::unix::fs::symlink("real/new.svg", place.path("new-link")).unwrap();
        place.run_ok(
            who,
            &["fold", "in.folded", "-o", "link", "--svg", "new-link"],
        );
        let link = fs::symlink_metadata(place.path("link")).unwrap();
        assert!(link.file_type().is_symlink(), "as {who:?}");
        assert_eq!(
            fs::read_link(place.path("link")).unwrap(),
            Path::new("real/out.folded")
        );
        assert_eq!(
            fs::read_to_string(place.path("real/out.folded")).unwrap(),
            FOLDED
        );
        assert!(
            fs::symlink_metadata(place.path("new-link"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::read_to_string(place.path("real/new.svg"))
                .unwrap()
                .contains("<svg")
        );
    }
}

#[test]
fn a_replaced_file_keeps_its_mode_and_owner() {
    for who in users() {
        let place = Place::new();
        let out = place.path("out.folded");
        fs::write(&out, "old\n").unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(0o640)).unwrap();
        if who == As::Nobody {
            // nobody's own file, in a directory nobody may write.
            std::os::unix::fs::chown(&out, Some(65534), Some(65534)).unwrap();
        } else if is_root() {
            // Root replacing another user's file keeps that user's file.
            std::os::unix::fs::chown(&out, Some(65534), Some(65534)).unwrap();
        }
        let owner_before = fs::metadata(&out).unwrap().uid();
        place.run_ok(who, &["fold", "in.folded", "-o", "out.folded"]);
        let meta = fs::metadata(&out).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o640, "as {who:?}");
        assert_eq!(meta.uid(), owner_before, "as {who:?}");
        assert_eq!(fs::read_to_string(&out).unwrap(), FOLDED);
    }
}

#[test]
fn a_new_file_gets_the_mode_the_umask_allows() {
    let place = Place::new();
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 027 && exec \"$0\" fold in.folded -o new.folded")
        .arg(&place.autofold)
        .current_dir(place.dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let mode = fs::metadata(place.path("new.folded")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn an_input_is_never_written_over_also_through_a_link() {
    for who in users() {
        let place = Place::new();
        std::os::unix::fs::symlink("in.folded", place.path("alias")).unwrap();
        let before = fs::read(place.path("in.folded")).unwrap();
        for args in [
            vec!["fold", "in.folded", "-o", "alias"],
            vec!["fold", "alias", "--svg", "in.folded"],
            vec!["fold", "in.folded", "--report", "./in.folded"],
        ] {
            let out = place.run(who, &args);
            assert!(!out.status.success(), "{args:?} as {who:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("refusing to overwrite an input file"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        assert_eq!(fs::read(place.path("in.folded")).unwrap(), before);
        assert!(
            fs::symlink_metadata(place.path("alias"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn standard_input_redirected_from_a_file_is_an_input_too() {
    let place = Place::new();
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg("exec \"$0\" fold -o in.folded < in.folded")
        .arg(&place.autofold)
        .current_dir(place.dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(fs::read_to_string(place.path("in.folded")).unwrap(), INPUT);
}

#[test]
fn a_directory_is_an_error_and_is_left_alone() {
    let place = Place::new();
    fs::create_dir(place.path("dir")).unwrap();
    let out = place.run(As::Me, &["fold", "in.folded", "-o", "dir"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dir: is a directory"), "{err}");
    assert!(fs::metadata(place.path("dir")).unwrap().is_dir());
}

#[test]
fn man_pages_go_through_links_too() {
    let place = Place::new();
    fs::create_dir(place.path("pages")).unwrap();
    fs::write(place.path("kept.1"), "old").unwrap();
    std::os::unix::fs::symlink("../kept.1", place.path("pages/autofold.1")).unwrap();
    place.run_ok(As::Me, &["man", "--out", "pages"]);
    assert!(
        fs::symlink_metadata(place.path("pages/autofold.1"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::read_to_string(place.path("kept.1"))
            .unwrap()
            .contains(".TH")
    );
}

#[test]
fn a_real_profile_goes_through_dev_null_and_dev_stdout() {
    // The flame graph of a real profile written into /dev/null, its folded
    // stacks into /dev/stdout: the bytes go through, nothing is created.
    let place = Place::new();
    let input = fixture("even-odd/even-odd.folded");
    let out = place.run_ok(
        As::Me,
        &[
            "fold",
            input.to_str().unwrap(),
            "--svg",
            "/dev/null",
            "-o",
            "/dev/stdout",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("{even,odd}"));
}

#[test]
fn the_flame_graph_drawn_beside_other_outputs_and_one_file_named_twice() {
    let place = Place::new();
    place.run_ok(
        As::Me,
        &["fold", "in.folded", "-o", "out.folded", "--svg", "out.svg"],
    );
    let folded = fs::read_to_string(place.path("out.folded")).unwrap();
    assert!(
        folded.lines().count() > 0 && !folded.contains("<svg"),
        "{folded}"
    );
    let svg = fs::read_to_string(place.path("out.svg")).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    // The flame graph is written first and the folded stacks replace it,
    // as when the outputs were written one after the other.
    fs::create_dir(place.path("sub")).unwrap();
    place.run_ok(
        As::Me,
        &["fold", "in.folded", "-o", "same", "--svg", "sub/../same"],
    );
    assert_eq!(fs::read_to_string(place.path("same")).unwrap(), folded);
}
