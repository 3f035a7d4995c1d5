package dev.maskrcnn4j.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads checkpoints without Python and without executing anything in them. The format is told by
 * the file's first bytes, not its name:
 * <ul>
 * <li>{@link Format#TORCH_ZIP}: {@code torch.save} since torch 1.6, a zip archive ("PK\3\4") with
 *     {@code <name>/data.pkl} and one uncompressed record {@code <name>/data/<key>} per storage;</li>
 * <li>{@link Format#TORCH_LEGACY}: {@code torch.save(..., _use_new_zipfile_serialization=False)}
 *     and torch before 1.6 (torchvision's official {@code maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth}):
 *     five pickles (magic number 0x1950a86a20f9469cfc6c, protocol version 1001, system info, the
 *     state dict, the storage keys) followed by each storage's element count and bytes;</li>
 * <li>{@link Format#SAFETENSORS}: an 8-byte little-endian header length, a JSON header
 *     (dtype, shape, data_offsets per tensor) and the tensors' bytes.</li>
 * </ul>
 * Pickles are read by {@link RestrictedUnpickler}, which knows only the globals a state dict
 * needs and refuses any other, naming it. Every size read from the file is checked against the
 * file's length before anything is allocated, zip records are CRC-checked, and storages are
 * slices of a read-only mapping of the file (one copy of the weights: the page cache's). Any
 * problem is one {@link CheckpointException} naming the file (and the key, when there is one);
 * nothing is returned half-loaded.
 */
public final class Checkpoint {
    /** The on-disk formats. */
    public enum Format { TORCH_ZIP, TORCH_LEGACY, SAFETENSORS }

    /** Pickled by torch.save's legacy format first: 0x1950a86a20f9469cfc6c, a LONG1 of 10 bytes. */
    static final byte[] LEGACY_MAGIC_PICKLE = {(byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
        0x6a, (byte) 0xa8, 0x50, 0x19};

    private Checkpoint() {
    }

    /** Reads every tensor of a checkpoint; see the class comment for formats and guarantees. */
    public static StateDict load(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException(path, Files.exists(path) ? "not a regular file" : "no such file");
        }
        try (MappedFile file = new MappedFile(path)) {
            return read(file);
        }
    }

    /** Reads a checkpoint mapping it region by region, as files over 2 GiB are (for tests). */
    static StateDict loadByRegions(Path path) {
        try (MappedFile file = new MappedFile(path, 0)) {
            return read(file);
        }
    }

    /** Reads a checkpoint whose bytes are already in memory ({@code name} names it in messages). */
    static StateDict load(Path name, ByteBuffer contents) {
        return read(new MappedFile(name, contents));
    }

    private static StateDict read(MappedFile file) {
        switch (detect(file)) {
            case TORCH_ZIP:
                return TorchZipReader.read(file);
            case TORCH_LEGACY:
                return TorchLegacyReader.read(file);
            default:
                return SafetensorsReader.read(file);
        }
    }

    /** The format of a file, by its first bytes; throws {@link CheckpointException} for anything else. */
    public static Format detect(Path path) {
        try (MappedFile file = new MappedFile(path)) {
            return detect(file);
        }
    }

    static Format detect(MappedFile file) {
        long size = file.size();
        if (size == 0) {
            throw new CheckpointException(file.path(), "empty file");
        }
        ByteBuffer head = file.region(0, Math.min(size, 16), "the first bytes");
        int n = head.limit();
        if (n >= 4 && head.getInt(0) == 0x04034b50) {
            return Format.TORCH_ZIP;
        }
        if (n >= 9 && head.get(8) == '{' && head.get(5) == 0 && head.get(6) == 0 && head.get(7) == 0) {
            return Format.SAFETENSORS; // a header length below 2^40, then the JSON header
        }
        if ((head.get(0) & 0xff) == 0x80) {
            // A pickle: torch's legacy format if the first pickle is its magic number. Any other
            // pickle is read as one too, so that its first global is refused by name.
            return Format.TORCH_LEGACY;
        }
        if (size >= 262 && file.region(257, 5, "tar header").equals(ByteBuffer.wrap("ustar".getBytes()))) {
            throw new CheckpointException(file.path(), "a tar archive: torch's pre-0.4 tar checkpoint format is not "
                    + "supported (re-save it with a recent torch.save)");
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(n, 12); i++) {
            hex.append(String.format("%02x ", head.get(i) & 0xff));
        }
        throw new CheckpointException(file.path(), "not a checkpoint (first bytes " + hex.toString().trim()
                + "): expected a torch.save zip archive (PK\\3\\4), a legacy torch.save file (a pickle of torch's "
                + "magic number 0x1950a86a20f9469cfc6c) or a safetensors file (8-byte header length, then '{')");
    }
}
