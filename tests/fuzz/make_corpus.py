#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): valid encodings
plus edge cases, in each target's input format (see the comment atop <target>_fuzz.cpp)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, "corpus", target), exist_ok=True)
    with open(os.path.join(HERE, "corpus", target, name), "wb") as f:
        f.write(data)


def frame(body, fds=0, size=None):
    return struct.pack("<QII", len(body) if size is None else size, fds, 0) + body


# channel: plan byte (fds per message, messages, poll, deadline, fds every message), bytes
write("channel", "one_frame", b"\x00" + frame(b"hello"))
write("channel", "two_frames_one_empty", b"\x00" + frame(b"") + frame(b"second"))
write("channel", "frame_with_fd", b"\x02" + frame(b"fd", fds=1))
write("channel", "polled_in_two_messages_with_fd", b"\x2a" + frame(b"split across", fds=1) + frame(b"x"))
write("channel", "size_over_bound", b"\x00" + frame(b"", size=(64 << 20) + 4097))
write("channel", "cut_short", b"\x00" + frame(b"abc", size=100))
write("channel", "deadline_on_half_header", b"\x60" + frame(b"")[:10])
write("channel", "65_fds_truncated", b"\x07" + frame(b"many", fds=16))
write("channel", "undeclared_fds_pile_up", b"\x9e" + frame(b"z" * 40, size=1000))

# wire: fd count | values << 2, type bytes, message
COLOUR, SAMPLE = struct.pack("<h", 2), struct.pack("<iiQ", -1, 7, 1 << 40)
every = struct.pack("<i", 42) + struct.pack("<d", 1.5) + b"\x01" + COLOUR + SAMPLE
every += struct.pack("<Q", 2) + b"hi" + struct.pack("<I", 0)
write("wire", "every_type", bytes([1 | 8 << 2]) + bytes(range(8)) + every)
write("wire", "string_longer_than_message", bytes([1 << 2, 5]) + struct.pack("<Q", 1 << 62) + b"abc")
write("wire", "bool_two", bytes([1 << 2, 2, 2]))
write("wire", "fd_index_not_sent", bytes([1 | 2 << 2, 6, 6]) + struct.pack("<II", 0, 5))
write("wire", "bytes_after_last_value", bytes([1 << 2, 0]) + struct.pack("<i", 1) + b"extra")

# reply_ring: even: tail, data area; odd: a script of ops
def entry(body, marker=False):
    word = struct.pack("<I", len(body) | (1 << 31 if marker else 0)) + body
    return word + b"\0" * (-len(word) % 8)

data = entry(b"hello") + entry(b"", marker=True) + entry(b"x" * 20)
write("reply_ring", "bulk_three_entries", b"\x00" + struct.pack("<Q", len(data)) + data)
write("reply_ring", "bulk_wrap_word", b"\x02" + struct.pack("<Q", 64 * 1024) + b"\xff" * 4)
write("reply_ring", "bulk_entry_too_large", b"\x00" + struct.pack("<Q", 8) + struct.pack("<I", 513))
push = lambda body: b"\x00" + struct.pack("<H", len(body)) + body
script = push(b"abc") + b"\x01" + b"\x05\x06\x06\x07" + push(b"woken") + b"\x05"
write("reply_ring", "script_push_pop_sleep", b"\x01" + script)
write("reply_ring", "script_pushes_then_drain", b"\x03" + (push(b"y" * 60) + b"\x01") * 8)
write("reply_ring", "script_hostile_tail", b"\x01" + push(b"abc") + b"\x03" + struct.pack("<h", 8) + b"\x05\x05")
write("reply_ring", "script_raw_write", b"\x01" + push(b"abc") + b"\x04" + struct.pack("<HB", 256, 4) + b"\x00\x02\x00\x00\x05")

# worker: fd count | task << 2 (0 add, 1 echo, 2 flip, 3 keep_fd, 4 weigh, 5 nothing,
# 6-7 no id: the input as it is), then the arguments
string = lambda s: struct.pack("<Q", len(s)) + s
write("worker", "add", bytes([0 << 2]) + struct.pack("<ii", 2, 3))
write("worker", "echo", bytes([1 << 2]) + string(b"hello"))
write("worker", "echo_throws", bytes([1 << 2]) + string(b"throw"))
write("worker", "echo_throws_int", bytes([1 << 2]) + string(b"throw 7"))
write("worker", "flip_invalid_bool", bytes([2 << 2, 2]))
write("worker", "keep_fd", bytes([1 | 3 << 2]) + struct.pack("<I", 0))
write("worker", "weigh", bytes([4 << 2, 1]) + struct.pack("<ii", 3, 4))
write("worker", "nothing_with_extra_byte", bytes([5 << 2, 0]))
write("worker", "unknown_task", bytes([6 << 2]) + struct.pack("<Q", 12345))
write("worker", "short_id", bytes([7 << 2]) + b"\x01\x02\x03")
