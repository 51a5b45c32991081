import XCTest
@testable import BenchPeers

// Samples captured on this machine (Debian 12, Linux 6.18): strace 6.1, perf 6.1.192,
// bpftrace 0.17.0 running BpftraceScript.text, nstrace -o json / -o text.

final class StraceOutputTests: XCTestCase {
    // strace -f -o FILE -e trace=unshare,setns,clone,clone3,mount,umount2 unshare -m sh -c '...'
    let sample = """
    11511 unshare(CLONE_NEWNS)              = 0
    11511 mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL) = 0
    11512 mount("none", "/mnt", "tmpfs", 0, NULL) = 0
    11512 +++ exited with 0 +++
    11511 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11512, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
    11513 umount2("/mnt", 0)                = 0
    11513 +++ exited with 0 +++
    11511 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fc68b371a10) = 11514
    11516 umount2("/nonexist", 0)           = -1 ENOENT (No such file or directory)
    11516 +++ exited with 32 +++
    11517 unshare(CLONE_NEWUTS)             = 0
    11511 +++ exited with 0 +++

    """

    // strace -f --seccomp-bpf: two children racing, one call split across lines
    let splitSample = """
    11526 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fd820648a10) = 11530
    11526 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fd820648a10) = 11531
    11531 unshare(CLONE_NEWUTS <unfinished ...>
    11530 unshare(CLONE_NEWUTS)             = 0
    11531 <... unshare resumed>)            = 0
    11530 +++ exited with 0 +++
    11531 +++ exited with 0 +++
    11526 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11530, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
    11526 +++ exited with 0 +++
    """

    func testCompleteCallsFailuresIncluded() {
        let c = StraceOutput.count(sample)
        XCTAssertEqual(c.events, ["unshare": 2, "mount": 2, "umount": 2, "clone": 1])
        XCTAssertEqual(c.unparsed, 0)
    }

    func testUnfinishedCallCountsOnceAtResumed() {
        let c = StraceOutput.count(splitSample)
        XCTAssertEqual(c.events, ["unshare": 2, "clone": 2])
        XCTAssertEqual(c.unparsed, 0)
    }

    // Pids under 10000: strace pads the pid column to five characters (captured from
    // `nstrace-bench --parts 8`, whose strace rows read 0 events in such rounds before).
    let shortPidSample = """
    2703  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fe26231ff90) = 2704
    2704  unshare(CLONE_NEWUTS)             = 0
    2703  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2704, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
    2704  +++ exited with 0 +++
    981   setns(3, CLONE_NEWNET <unfinished ...>
    982   umount2("/tmp/nstrace-bench-mnt", 0) = 0
    981   <... setns resumed>)              = 0

    """

    func testPaddedShortPidsAreCounted() {
        let c = StraceOutput.count(shortPidSample)
        XCTAssertEqual(c.events, ["clone": 1, "unshare": 1, "setns": 1, "umount": 1])
        XCTAssertEqual(c.unparsed, 0)
    }

    func testGarbageIsUnparsedNotCounted() {
        let c = StraceOutput.count("123 <... what\n456 (nothing\nnot a line\n")
        XCTAssertEqual(c.events, [:])
        XCTAssertEqual(c.unparsed, 2)
    }
}

final class PerfTraceOutputTests: XCTestCase {
    // perf trace -a -e unshare,setns,mount,umount2,clone,clone3 -o FILE
    let sample = """
         ? (         ): bash/11367  ... [continued]: clone())                                            = 0
       529.476 ( 0.031 ms): unshare/11367 unshare(unshare_flags: 67108864)                                      = 0
       547.722 ( 0.198 ms): bash/11328 clone(clone_flags: CHILD_CLEARTID|CHILD_SETTID|0x11, child_tidptr: 0x7f2a6246ca10) = 11368 (bash)
       552.602 ( 0.065 ms): unshare/11368 unshare(unshare_flags: 131072)                                        = 0
       552.732 ( 0.016 ms): unshare/11368 mount(dev_name: 0x2ba1d39c, dir_name: 0x55df2ba1e647, flags: REC|PRIVATE) = 0
       557.133 ( 0.097 ms): mount/11369 mount(dev_name: 0xebdc9310, dir_name: 0x5637ebdc9330, type: 0x5637ebdc92f0) = 0
         ? (         ): sh/11370  ... [continued]: umount2())                                          = 0
       582.056 (         ): umount/11370 umount2(name: 0xaee462f0)                                          ...
       591.433 ( 0.014 ms): umount/11372 umount2(name: 0x140cf2f0)                                             = -1 ENOENT (No such file or directory)
       631.828 ( 0.569 ms): ip/11373 unshare(unshare_flags: 1073741824)                                    = 0
       632.490 ( 0.008 ms): ip/11373 setns(fd: 5, flags: 1073741824)                                       = 0
    """

    func testWholeSplitAndExitOnlyLines() {
        let c = PerfTraceOutput.count(sample, filter: .all)
        // the split umount2 counts once (at its [continued] line, which perf printed first)
        XCTAssertEqual(c.events, ["clone": 2, "unshare": 3, "mount": 2, "umount": 2, "setns": 1])
        XCTAssertEqual(c.unparsed, 0)
    }

    func testFilterByComm() {
        let c = PerfTraceOutput.count(sample, filter: .comm("umount", "sh"))
        XCTAssertEqual(c.events, ["umount": 2])
    }

    // the workload nstb-ns forks children that perf knows only as ":PID" (captured here)
    func testChildrenWithoutCommCountThroughTheirParentsClone() {
        let text = """
          2885.071 (         ): nstb-ns/22282 clone(clone_flags: CHILD_CLEARTID|CHILD_SETTID|0x11, child_tidptr: 0x7f1aaf651f90) ...
          2885.297 ( 0.016 ms): :22331/22331 unshare(unshare_flags: 67108864)                                      = 0
          2885.301 ( 0.230 ms): nstb-ns/22282  ... [continued]: clone())                                      = 22331 (:22331)
          2885.400 ( 0.016 ms): :22999/22999 unshare(unshare_flags: 67108864)                                      = 0
          2886.000 ( 0.011 ms): nstb-ns/22282 setns(fd: 3, flags: 1073741824)                                     = 0
        """
        let c = PerfTraceOutput.count(text, filter: .comm("nstb-ns"))
        XCTAssertEqual(c.events, ["clone": 1, "unshare": 1, "setns": 1])
        XCTAssertEqual(c.unparsed, 0)
    }

    func testCommWithSlashAndSpaceAndLostLine() {
        let text = """
             1.000 ( 0.010 ms): kworker/0:1 x/77 unshare(unshare_flags: 0)   = 0
        LOST 12 events!
             2.000 ( 0.010 ms): kworker/0:1 x/77  ... [continued]: setns())   = 0
        """
        let c = PerfTraceOutput.count(text, filter: .comm("kworker/0:1 x"))
        XCTAssertEqual(c.events, ["unshare": 1, "setns": 1])
        XCTAssertEqual(c.lost, 12)
    }
}

final class BpftraceOutputTests: XCTestCase {
    // bpftrace running BpftraceScript.text (tabs between fields; empty maps printed at exit)
    let sample = "Attaching 26 probes...\n"
        + "unshare\t12203\t12203\tunshare\t0\t58841\t1\t4026531841\t4026531840\t4026531838\t4026531839\t4026531835\t4026531836\t0x20000\n"
        + "mount\t12203\t12203\tunshare\t0\t11211\t1\t4026532178\tnone\t/\t\t0x44000\t\n"
        + "mount\t12204\t12204\tmount\t0\t46517\t1\t4026532178\tnone\t/mnt\ttmpfs\t0x0\tsize=1m\n"
        + "umount2\t12206\t12206\tumount\t-2\t3000\t1\t4026532178\t/nonexist\t0x0\n"
        + "\n\n\n@t: \n"

    func testEventsAndBanner() {
        let c = BpftraceOutput.count(sample, filter: .all)
        XCTAssertEqual(c.events, ["unshare": 1, "mount": 2, "umount": 1])
        XCTAssertEqual(c.unparsed, 0)
        XCTAssertEqual(BpftraceOutput.count(sample, filter: .comm("mount")).events, ["mount": 1])
    }

    func testLostAndCutLines() {
        let c = BpftraceOutput.count("Lost 7 events\nsetns\tx\t1\tc\t0\n", filter: .all)
        XCTAssertEqual(c.lost, 7)
        XCTAssertEqual(c.unparsed, 1)
    }

    func testScriptCoversEverySyscallEnterAndExit() {
        let script = BpftraceScript.text()
        for s in BpftraceScript.syscalls {
            XCTAssertTrue(script.contains("sys_enter_\(s.tracepoint) "), s.name)
            XCTAssertTrue(script.contains("sys_exit_\(s.tracepoint) /@t[tid]/"), s.name)
        }
        XCTAssertEqual(Set(BpftraceScript.syscalls.map(\.name)), Set(PeerSyscalls.all))
        XCTAssertFalse(BpftraceScript.text(available: { $0 != "fsopen" }).contains("fsopen"))
    }
}

final class NstraceOutputTests: XCTestCase {
    func testJSONAndTextAndSummary() {
        let json = """
        {"time":"2026-11-29T07:40:01.123456789Z","ts_ns":1,"event":"unshare","pid":4242,"tid":4242,"ppid":1,"ns_pid":4242,"comm":"nstb-ns","uid":0}
        {"time":"2026-11-29T07:40:01.123456789Z","ts_ns":2,"event":"umount","pid":4243,"tid":4243,"ppid":1,"ns_pid":4243,"comm":"other","uid":0}
        {"event":
        """
        let c = NstraceOutput.countJSON(json, filter: .comm("nstb-ns"))
        XCTAssertEqual(c.events, ["unshare": 1])
        XCTAssertEqual(c.unparsed, 1)

        let text = """
        TIME                PID COMM             CONTAINER    EVENT         DETAIL
        08:40:01.123456    4242 unshare          -            unshare       CLONE_NEWNS|CLONE_NEWNET mnt:[4026531841→4026532693]
        08:40:01.130002    4242 mount            -            mount         tmpfs on /mnt type tmpfs (MS_NOSUID) data="size=1m"
        """
        XCTAssertEqual(NstraceOutput.countText(text, filter: .all).events, ["unshare": 1, "mount": 1])

        let summary = NstraceOutput.summary("nstrace: tracing 30 programs; Ctrl-C to stop\nnstrace: 4002 events, 3 lost (3 ring buffer full)\n")
        XCTAssertEqual(summary?.events, 4002)
        XCTAssertEqual(summary?.lost, 3)
        let recorded = NstraceOutput.summary("nstrace: tracing 30 programs; Ctrl-C to stop\nnstrace: 1 events recorded to /tmp/i11/r.nst (2859 bytes), 0 lost\n")
        XCTAssertEqual(recorded?.events, 1)
        XCTAssertEqual(recorded?.lost, 0)
        XCTAssertNil(NstraceOutput.summary("nstrace: tracing 30 programs; Ctrl-C to stop\n"))
    }
}
