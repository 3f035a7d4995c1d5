package dev.maskrcnn4j.checkpoint;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The central directory of a zip archive (with zip64), read from a {@link MappedFile} so that
 * stored entries are returned as slices of the mapping, never copied. torch.save's zip writer
 * stores every record uncompressed and pads local headers so storages are 64-byte aligned;
 * compressed or encrypted entries are refused.
 */
final class ZipDirectory {
    static final class Entry {
        final String name;
        final int method;
        final int flags;
        final long crc;
        final long compressedSize;
        final long size;
        final long localHeaderOffset;

        Entry(String name, int method, int flags, long crc, long compressedSize, long size, long localHeaderOffset) {
            this.name = name;
            this.method = method;
            this.flags = flags;
            this.crc = crc;
            this.compressedSize = compressedSize;
            this.size = size;
            this.localHeaderOffset = localHeaderOffset;
        }
    }

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;

    private final MappedFile file;
    private final Map<String, Entry> entries;

    private ZipDirectory(MappedFile file, Map<String, Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    Map<String, Entry> entries() {
        return entries;
    }

    static ZipDirectory read(MappedFile file) {
        long size = file.size();
        long eocd = findEndOfCentralDirectory(file);
        ByteBuffer e = file.region(eocd, 22, "zip end-of-central-directory record");
        long count = e.getShort(10) & 0xffff;
        long cdSize = e.getInt(12) & 0xffffffffL;
        long cdOffset = e.getInt(16) & 0xffffffffL;
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            if (eocd < 20) {
                throw corrupt(file, "zip64 end-of-central-directory locator missing");
            }
            ByteBuffer loc = file.region(eocd - 20, 20, "zip64 end-of-central-directory locator");
            if (loc.getInt(0) != ZIP64_LOCATOR_SIG) {
                throw corrupt(file, "zip64 end-of-central-directory locator missing");
            }
            long z = loc.getLong(8);
            ByteBuffer z64 = file.region(z, 56, "zip64 end-of-central-directory record");
            if (z64.getInt(0) != ZIP64_EOCD_SIG) {
                throw corrupt(file, "bad zip64 end-of-central-directory record");
            }
            count = z64.getLong(32);
            cdSize = z64.getLong(40);
            cdOffset = z64.getLong(48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > eocd || cdSize > eocd - cdOffset || count < 0 || count > cdSize / 46) {
            throw corrupt(file, "zip central directory (" + count + " entries, " + cdSize + " bytes at " + cdOffset
                    + ") does not fit in the file of " + size + " bytes");
        }
        ByteBuffer cd = file.region(cdOffset, cdSize, "zip central directory");
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cd.limit() || cd.getInt(p) != CENTRAL_SIG) {
                throw corrupt(file, "zip central directory entry " + i + " is damaged");
            }
            int flags = cd.getShort(p + 8) & 0xffff;
            int method = cd.getShort(p + 10) & 0xffff;
            long crc = cd.getInt(p + 16) & 0xffffffffL;
            long csize = cd.getInt(p + 20) & 0xffffffffL;
            long usize = cd.getInt(p + 24) & 0xffffffffL;
            int nameLen = cd.getShort(p + 28) & 0xffff;
            int extraLen = cd.getShort(p + 30) & 0xffff;
            int commentLen = cd.getShort(p + 32) & 0xffff;
            long localOffset = cd.getInt(p + 42) & 0xffffffffL;
            if ((long) p + 46 + nameLen + extraLen + commentLen > cd.limit()) {
                throw corrupt(file, "zip central directory entry " + i + " is damaged");
            }
            byte[] nameBytes = new byte[nameLen];
            cd.get(p + 46, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            // zip64 extended information: the fields saturated in the fixed part, in this order.
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = cd.getShort(x) & 0xffff;
                int len = cd.getShort(x + 2) & 0xffff;
                if (x + 4 + len > xEnd) {
                    throw corrupt(file, "zip entry '" + name + "' has a damaged extra field");
                }
                if (id == 0x0001) {
                    int q = x + 4;
                    int qEnd = q + len;
                    if (usize == 0xffffffffL && q + 8 <= qEnd) {
                        usize = cd.getLong(q);
                        q += 8;
                    }
                    if (csize == 0xffffffffL && q + 8 <= qEnd) {
                        csize = cd.getLong(q);
                        q += 8;
                    }
                    if (localOffset == 0xffffffffL && q + 8 <= qEnd) {
                        localOffset = cd.getLong(q);
                    }
                }
                x += 4 + len;
            }
            if (usize < 0 || csize < 0 || localOffset < 0) {
                throw corrupt(file, "zip entry '" + name + "' has impossible sizes");
            }
            if (entries.put(name, new Entry(name, method, flags, crc, csize, usize, localOffset)) != null) {
                throw corrupt(file, "zip entry '" + name + "' appears twice");
            }
            p += 46 + nameLen + extraLen + commentLen;
        }
        return new ZipDirectory(file, Collections.unmodifiableMap(entries));
    }

    /**
     * The bytes of a stored entry, a slice of the mapping, after checking its local header and
     * its CRC-32 (so a damaged byte anywhere in the checkpoint is reported, not loaded).
     */
    ByteBuffer data(Entry entry) {
        if ((entry.flags & 1) != 0) {
            throw new CheckpointException(file.path(), "zip entry '" + entry.name + "' is encrypted");
        }
        if (entry.method != 0 || entry.compressedSize != entry.size) {
            throw new CheckpointException(file.path(), "zip entry '" + entry.name + "' is compressed (method "
                    + entry.method + "); torch.save stores checkpoint records uncompressed, and so must a re-packed archive");
        }
        ByteBuffer local = file.region(entry.localHeaderOffset, 30, "local header of zip entry '" + entry.name + "'");
        if (local.getInt(0) != LOCAL_SIG) {
            throw corrupt(file, "zip entry '" + entry.name + "': no local header at byte " + entry.localHeaderOffset);
        }
        int nameLen = local.getShort(26) & 0xffff;
        int extraLen = local.getShort(28) & 0xffff;
        ByteBuffer name = file.region(entry.localHeaderOffset + 30, nameLen, "local header of zip entry '" + entry.name + "'");
        if (!name.equals(ByteBuffer.wrap(entry.name.getBytes(StandardCharsets.UTF_8)))) {
            throw corrupt(file, "zip entry '" + entry.name + "': its local header names another entry");
        }
        long start = entry.localHeaderOffset + 30 + nameLen + extraLen;
        ByteBuffer data = file.region(start, entry.size, "zip entry '" + entry.name + "'");
        CRC32 crc = new CRC32();
        crc.update(data.duplicate());
        if (crc.getValue() != entry.crc) {
            throw corrupt(file, "zip entry '" + entry.name + "' fails its CRC-32 check (damaged data)");
        }
        return data;
    }

    private static long findEndOfCentralDirectory(MappedFile file) {
        long size = file.size();
        if (size < 22) {
            throw corrupt(file, "zip archive without an end-of-central-directory record");
        }
        long from = Math.max(0, size - 22 - 0xffff);
        ByteBuffer tail = file.region(from, size - from, "zip end-of-central-directory record");
        for (int p = tail.limit() - 22; p >= 0; p--) {
            if (tail.getInt(p) == EOCD_SIG && p + 22 + (tail.getShort(p + 20) & 0xffff) == tail.limit()) {
                return from + p;
            }
        }
        throw corrupt(file, "zip archive without an end-of-central-directory record (the file is truncated or not a zip)");
    }

    private static CheckpointException corrupt(MappedFile file, String message) {
        return new CheckpointException(file.path(), "truncated or corrupt: " + message);
    }
}
