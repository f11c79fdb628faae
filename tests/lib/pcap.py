"""Reading the lab's captures (Lab(pcap=...), `lab.py run --pcap`) with
struct: pcap records, Ethernet + IPv4 frames, a TCP stream reassembled
from them."""

import struct

ETH_IP = 0x0800


def read_pcap(path):
    """Return (global header fields, [(ts, orig len, frame bytes)])."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 24, "%s: %d bytes, no pcap header" % (path, len(data))
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xa1b2c3d4:
        end = "<"
    elif magic == 0xd4c3b2a1:
        end = ">"
    else:
        raise AssertionError("%s: bad pcap magic 0x%08x" % (path, magic))
    major, minor, _zone, _sig, snaplen, linktype = struct.unpack(
        end + "HHiIII", data[4:24])
    hdr = {"version": (major, minor), "snaplen": snaplen,
           "linktype": linktype}
    frames, off = [], 24
    while off < len(data):
        assert off + 16 <= len(data), "%s: truncated record header at %d" % (
            path, off)
        sec, usec, caplen, wirelen = struct.unpack(end + "iIII",
                                                   data[off:off + 16])
        off += 16
        assert caplen <= wirelen and caplen <= snaplen, \
            "%s: record at %d: caplen %d len %d" % (path, off, caplen,
                                                    wirelen)
        assert off + caplen <= len(data), "%s: truncated record at %d" % (
            path, off)
        frames.append((sec + usec / 1e6, wirelen, data[off:off + caplen]))
        off += caplen
    return hdr, frames


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def ipv4(frame):
    """Ethernet + IPv4: (dst mac, src mac, src ip, dst ip, proto, l4 bytes)
    or None."""
    if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != ETH_IP:
        return None
    ihl = (frame[14] & 0xf) * 4
    total = struct.unpack("!H", frame[16:18])[0]
    src = ".".join(str(x) for x in frame[26:30])
    dst = ".".join(str(x) for x in frame[30:34])
    return (mac_str(frame[0:6]), mac_str(frame[6:12]), src, dst, frame[23],
            frame[14 + ihl:14 + total])


def tcp_stream(frames, src, dst, dport):
    """The byte stream src -> dst:dport, reassembled by sequence number
    from the SYN on (retransmissions overwrite the same bytes)."""
    isn, buf, segs = None, bytearray(), 0
    for _, _, fr in frames:
        p = ipv4(fr)
        if not p or p[2:5] != (src, dst, 6):
            continue
        l4 = p[5]
        if struct.unpack("!H", l4[2:4])[0] != dport:
            continue
        seq = struct.unpack("!I", l4[4:8])[0]
        flags = l4[13]
        if flags & 0x02:                    # SYN
            isn = seq
            continue
        payload = l4[(l4[12] >> 4) * 4:]
        if isn is None or not payload:
            continue
        segs += 1
        off = (seq - isn - 1) & 0xffffffff
        if len(buf) < off + len(payload):
            buf.extend(bytes(off + len(payload) - len(buf)))
        buf[off:off + len(payload)] = payload
    return bytes(buf), segs
