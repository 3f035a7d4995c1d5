package dev.maskrcnn4j.weights;

import dev.maskrcnn4j.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where weights come from: a local file, or an http(s) URL downloaded once into a cache folder.
 *
 * <pre>{@code
 * Path checkpoint = WeightsCache.create().resolve(DefaultWeights.MASKRCNN_RESNET50_FPN_COCO_V1);
 * Path mine = WeightsCache.create().resolve("https://example.org/finetuned.pth", "<64 hex digits>");
 * Path local = WeightsCache.create().resolve("/data/model.pth");
 * }</pre>
 *
 * <p><b>Local paths</b> (and {@code file:} URLs) are returned after checking the file exists and
 * is readable; nothing is copied. <b>URLs</b> are stored as {@code <cache>/<file name>} (the last
 * path segment, as torch.hub names its checkpoints, so torch's cache folder can serve as this one):
 * <ul>
 *   <li>the data goes to {@code <name>.partial} and is renamed (atomically) to {@code <name>} only
 *       once complete and verified, so a path returned here is never a partial file, and a file
 *       present under its final name is trusted without hashing it again;</li>
 *   <li>the SHA-256 is checked against the full hash given to {@link #resolve(String, String)},
 *       or else the prefix a torchvision-style name carries ({@code <stem>-<8+ hex digits>.<ext>},
 *       e.g. {@code maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth}); a name without one is downloaded
 *       unverified (the end line says so); on a mismatch the file is deleted and
 *       {@link WeightsHashMismatchException} names the URL and both hashes;</li>
 *   <li>an interrupted download resumes from the partial file with an HTTP Range request, within
 *       the same call (up to {@link Builder#maxAttempts(int)} connections, while each one makes
 *       progress) or in a later one; a server that ignores Range (200 instead of 206) is read from
 *       the start; redirects are followed;</li>
 *   <li>two threads or processes resolving the same URL do not both download it: they serialise
 *       on {@code <name>.lock} (an OS file lock, released if the holder dies; the empty lock file
 *       stays) and the second finds the finished file;</li>
 *   <li>progress goes to stderr: a bar (bytes, percentage, rate, time left) when stderr is a
 *       terminal or {@link Progress#BAR} is asked for, otherwise a line when a download starts
 *       and one when it ends.</li>
 * </ul>
 * Failures are {@link WeightsException}s naming the URL: {@link WeightsHttpException} (404,
 * 500...), {@link WeightsConnectionException} (refused, timeout, stall),
 * {@link WeightsTruncatedException} (body shorter than announced), {@link WeightsHashMismatchException},
 * and the base class for disk errors. Malformed arguments are {@link InvalidArgumentException}s.
 */
public final class WeightsCache {
    /** How download progress is shown. */
    public enum Progress {
        /** A bar when stderr is a terminal, else a line at start and end. */
        AUTO,
        /** Always a bar, redrawn in place. */
        BAR,
        /** A line at start and end (and one per resume or retry). */
        LINES,
        /** Nothing. */
        NONE
    }

    /** Environment variable naming the cache folder (used as is: weights files go directly in it). */
    public static final String CACHE_ENV = "MASKRCNN4J_CACHE";

    private static final Pattern HASH_IN_NAME = Pattern.compile(".+-([0-9a-f]{8,64})\\.[^-]+");
    private static final Pattern FULL_SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:.*", Pattern.DOTALL);
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(?:(\\d+)-(\\d+)|\\*)/(\\d+|\\*)\\s*");
    private static final String USER_AGENT = "maskrcnn4j (Java " + Runtime.version().feature() + ")";
    /** Same-JVM exclusion (an OS file lock cannot be taken twice by one process). Keyed by real path. */
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final Path directory;
    private final Progress progress;
    private final PrintStream progressStream;
    private final Duration connectTimeout;
    private final Duration responseTimeout;
    private final Duration idleTimeout;
    private final int maxAttempts;
    private volatile HttpClient client;

    private WeightsCache(Builder b) {
        this.directory = b.directory != null ? b.directory : defaultDirectory();
        this.progress = b.progress;
        this.progressStream = b.progressStream;
        this.connectTimeout = b.connectTimeout;
        this.responseTimeout = b.responseTimeout;
        this.idleTimeout = b.idleTimeout;
        this.maxAttempts = b.maxAttempts;
    }

    /** A cache in {@link #defaultDirectory()} with default settings. */
    public static WeightsCache create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@code $MASKRCNN4J_CACHE} if set, else {@code $XDG_CACHE_HOME/maskrcnn4j/weights} if that is
     * set to an absolute path, else {@code ~/.cache/maskrcnn4j/weights}.
     */
    public static Path defaultDirectory() {
        return defaultDirectory(System.getenv(), System.getProperty("user.home"));
    }

    static Path defaultDirectory(Map<String, String> env, String userHome) {
        String explicit = env.get(CACHE_ENV);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg) : Path.of(userHome, ".cache");
        return base.resolve("maskrcnn4j").resolve("weights");
    }

    /** The cache folder (created on the first download). */
    public Path directory() {
        return directory;
    }

    /** Whether a {@code --weights} value is an http(s) URL (anything else is taken for a local path). */
    public static boolean isUrl(String pathOrUrl) {
        return pathOrUrl != null && (startsWithIgnoreCase(pathOrUrl.strip(), "http://")
                || startsWithIgnoreCase(pathOrUrl.strip(), "https://"));
    }

    /**
     * The SHA-256 prefix a torchvision-style file name carries: {@code <stem>-<8 to 64 lowercase hex
     * digits>.<ext>} ("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth" -> "bf2d0c1e"); empty for other names
     * ("resnet50-imagenet.pth", "model-BF2D0C1E.pth", "model-bf2d0c1.pth").
     */
    public static Optional<String> expectedHashPrefix(String fileName) {
        Matcher m = HASH_IN_NAME.matcher(fileName);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Where the file of a URL is (or will be) stored; nothing is fetched. */
    public Path cachedFile(String url) {
        return directory.resolve(fileName(parseUrl(url), url));
    }

    /** {@link #resolve(String, String)} without an explicit hash. */
    public Path resolve(String pathOrUrl) {
        return resolve(pathOrUrl, null);
    }

    /**
     * The local file for {@code pathOrUrl}: a path is checked and returned; an http(s) URL is
     * downloaded into the cache unless already there, and the cached file returned.
     *
     * @param sha256 the full SHA-256 (64 hex digits) the file must have, or null to rely on the
     *     prefix in a torchvision-style name. For a local path or an already cached file it is
     *     checked by hashing the file (which is then left in place if it differs).
     */
    public Path resolve(String pathOrUrl, String sha256) {
        if (pathOrUrl == null || pathOrUrl.isBlank()) {
            throw new InvalidArgumentException("weights: expected a file path or an http(s) URL, got "
                    + (pathOrUrl == null ? "null" : "an empty string"));
        }
        String expected = null;
        if (sha256 != null) {
            if (!FULL_SHA256.matcher(sha256.strip()).matches()) {
                throw new InvalidArgumentException("expected SHA-256 for " + pathOrUrl
                        + " must be 64 hex digits, got \"" + sha256 + "\"");
            }
            expected = sha256.strip().toLowerCase(Locale.ROOT);
        }
        String s = pathOrUrl.strip();
        if (isUrl(s)) {
            return resolveUrl(s, expected);
        }
        Path path;
        if (startsWithIgnoreCase(s, "file:")) {
            try {
                path = Path.of(new URI(s));
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new InvalidArgumentException("malformed file URL " + s + ": " + e.getMessage());
            }
        } else if (SCHEME.matcher(s).matches() && s.indexOf(':') > 1 && s.contains("://")) {
            throw new InvalidArgumentException("weights URL " + s + ": only http://, https:// and file: URLs are supported");
        } else if (s.equals("~") || s.startsWith("~/")) {
            path = Path.of(System.getProperty("user.home") + s.substring(1));
        } else {
            path = Path.of(s);
        }
        return resolveLocal(pathOrUrl, path, expected);
    }

    /** SHA-256 of a file, 64 lowercase hex digits. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = newSha256();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ---------------------------------------------------------------------------------------
    // Local files

    private Path resolveLocal(String given, Path path, String expected) {
        Path abs = path.toAbsolutePath().normalize();
        String shown = given.strip().equals(abs.toString()) ? abs.toString() : abs + " (from " + given + ")";
        if (!Files.exists(abs)) {
            throw new WeightsException(given, "weights file not found: " + shown);
        }
        if (Files.isDirectory(abs)) {
            throw new WeightsException(given, "weights path is a directory, not a file: " + shown);
        }
        if (!Files.isReadable(abs)) {
            throw new WeightsException(given, "weights file is not readable: " + shown);
        }
        if (expected != null) {
            verifyExisting(given, abs, expected);
        }
        return abs;
    }

    private static void verifyExisting(String source, Path file, String expected) {
        String actual;
        try {
            actual = sha256(file);
        } catch (IOException e) {
            throw new WeightsException(source, "cannot read " + file + " to check its SHA-256 (" + source + "): " + e, e);
        }
        if (!actual.equals(expected)) {
            throw new WeightsHashMismatchException(source, expected, actual, "SHA-256 mismatch for " + source
                    + ": expected " + expected + ", but " + file + " has " + actual);
        }
    }

    // ---------------------------------------------------------------------------------------
    // URLs

    private static URI parseUrl(String url) {
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw new InvalidArgumentException("malformed weights URL " + url + ": " + e.getMessage());
        }
        if (uri.getHost() == null) {
            throw new InvalidArgumentException("weights URL " + url + " has no host");
        }
        return uri;
    }

    private static String fileName(URI uri, String url) {
        String path = uri.getPath();
        String name = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0
                || name.indexOf('\\') >= 0) {
            throw new InvalidArgumentException("weights URL " + url + " does not end with a file name");
        }
        return name;
    }

    private Path resolveUrl(String url, String expectedFull) {
        URI uri = parseUrl(url);
        String name = fileName(uri, url);
        String prefix = expectedHashPrefix(name).orElse(null);
        if (expectedFull != null && prefix != null && !expectedFull.startsWith(prefix)) {
            throw new InvalidArgumentException("SHA-256 " + expectedFull + " given for " + url
                    + " does not start with " + prefix + ", the hash prefix in its file name");
        }
        String expected = expectedFull != null ? expectedFull : prefix;
        Path target = directory.resolve(name);
        if (Files.isRegularFile(target)) {
            if (expectedFull != null) {
                verifyExisting(url, target, expectedFull);
            }
            return target;
        }
        Path realDir;
        try {
            Files.createDirectories(directory);
            realDir = directory.toRealPath();
        } catch (IOException e) {
            throw new WeightsException(url, "cannot create the weights cache folder " + directory
                    + " to download " + url + ": " + describe(e), e);
        }
        ProgressReporter reporter = ProgressReporter.create(progress, progressStream, name);
        ReentrantLock local = IN_PROCESS.computeIfAbsent(realDir.resolve(name), k -> new ReentrantLock());
        try {
            local.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WeightsException(url, "interrupted while waiting for the download of " + url);
        }
        try {
            if (!Files.isRegularFile(target)) { // else another thread of this JVM just finished it
                Path lockFile = realDir.resolve(name + ".lock");
                try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    FileLock lock = lockChannel.tryLock();
                    if (lock == null) {
                        reporter.line("Waiting for another process downloading " + url + " (lock " + lockFile + ")");
                        lock = lockChannel.lock();
                    }
                    try {
                        if (!Files.isRegularFile(target)) { // else another process just finished it
                            return download(uri, url, realDir, name, target, expected, reporter);
                        }
                    } finally {
                        if (lock.isValid()) {
                            lock.release();
                        }
                    }
                } catch (IOException e) {
                    throw new WeightsException(url, "cannot lock " + realDir.resolve(name + ".lock")
                            + " to download " + url + ": " + describe(e), e);
                }
            }
            if (expectedFull != null) {
                verifyExisting(url, target, expectedFull);
            }
            return target;
        } finally {
            local.unlock();
        }
    }

    private Path download(URI uri, String url, Path dir, String name, Path target, String expected,
                          ProgressReporter reporter) {
        Path partial = dir.resolve(name + ".partial");
        long t0 = System.nanoTime();
        long initial = sizeOf(partial, url);
        reporter.line(initial > 0
                ? "Resuming the download of " + url + " at " + ProgressReporter.size(initial) + " into " + target
                : "Downloading " + url + " to " + target);
        int failures = 0;
        int restarts = 0;
        while (true) {
            long have = sizeOf(partial, url);
            Transfer t = new Transfer(url, partial, have, reporter);
            try {
                t.run(uri);
            } catch (WeightsConnectionException | WeightsTruncatedException e) {
                long now = sizeOf(partial, url);
                failures++;
                if (now > have && failures < maxAttempts) {
                    reporter.line("Connection lost after " + ProgressReporter.size(now) + " (" + e.getMessage()
                            + "); resuming");
                    continue;
                }
                deleteIfEmpty(partial);
                throw e;
            } catch (RuntimeException e) {
                deleteIfEmpty(partial);
                throw e;
            }
            if (t.restart) {
                deleteIfExists(partial, url);
                if (++restarts > 2) {
                    throw new WeightsException(url, "the server of " + url + " does not serve the rest of the file consistently");
                }
                reporter.line("The server cannot resume " + url + " at " + ProgressReporter.size(have)
                        + "; downloading it from the start");
                continue;
            }
            String actual = t.sha256();
            if (expected != null && !actual.startsWith(expected)) {
                deleteIfExists(partial, url);
                if (t.resumedFrom > 0 && restarts++ < 2) {
                    reporter.line("SHA-256 of " + url + " does not match after resuming at "
                            + ProgressReporter.size(t.resumedFrom) + "; downloading it again from the start");
                    continue;
                }
                throw new WeightsHashMismatchException(url, expected, actual, "SHA-256 mismatch for " + url
                        + ": expected " + expected + (expected.length() < 64 ? "... (from the file name)" : "")
                        + ", got " + actual + "; the downloaded file was deleted");
            }
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new WeightsException(url, "cannot move " + partial + " to " + target + " after downloading "
                        + url + ": " + describe(e), e);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long size = sizeOf(target, url);
            reporter.line(String.format(Locale.ROOT, "Downloaded %s: %s in %.1f s, SHA-256 %s (%s)", url,
                    ProgressReporter.size(size), seconds, actual,
                    expected == null ? "not verified: no expected hash" : "verified"));
            return target;
        }
    }

    /** One HTTP request: the body is written to the partial file, hashed as it arrives. */
    private final class Transfer implements HttpResponse.BodyHandler<Void>, HttpResponse.BodySubscriber<Void> {
        private final String url;
        private final Path partial;
        private final long have;
        private final ProgressReporter reporter;
        private final MessageDigest md = newSha256();
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        private FileChannel channel;
        private Flow.Subscription subscription;

        private volatile boolean responded;
        private volatile long lastActivity;
        private volatile int status = -1;
        private volatile boolean streaming;
        private volatile long offset;
        private volatile long received;
        private volatile long total = -1;
        private volatile IOException diskError;
        /** The server cannot continue from {@code have}: start over without a Range. */
        volatile boolean restart;
        /** The server says the file is exactly the {@code have} bytes on disk (416 with that size). */
        volatile boolean alreadyComplete;
        /** Bytes that were on disk when this transfer appended to them (0 for a full download). */
        volatile long resumedFrom;

        Transfer(String url, Path partial, long have, ProgressReporter reporter) {
            this.url = url;
            this.partial = partial;
            this.have = have;
            this.reporter = reporter;
        }

        String sha256() {
            return HexFormat.of().formatHex(md.digest());
        }

        void run(URI uri) {
            try {
                channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.READ);
            } catch (IOException e) {
                throw diskFailure(e);
            }
            try {
                if (have > 0) {
                    hashExisting();
                }
                HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().header("User-Agent", USER_AGENT);
                if (have > 0) {
                    request.header("Range", "bytes=" + have + "-");
                }
                long started = System.nanoTime();
                CompletableFuture<HttpResponse<Void>> f = client().sendAsync(request.build(), this);
                await(f, started);
                if (diskError != null) {
                    throw diskFailure(diskError);
                }
                if (!streaming && !restart && !alreadyComplete) {
                    throw new WeightsHttpException(url, status, "HTTP " + status + reason(status) + " for " + url);
                }
                if (streaming) {
                    channel.force(true);
                }
            } catch (IOException e) {
                throw diskFailure(e);
            } finally {
                if (streaming) {
                    reporter.end(offset + received);
                }
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing was lost: what is on disk is a prefix of the file
                }
            }
        }

        private void hashExisting() throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            long pos = 0;
            while (pos < have) {
                buf.clear();
                if (have - pos < buf.capacity()) {
                    buf.limit((int) (have - pos));
                }
                int n = channel.read(buf, pos);
                if (n < 0) {
                    throw new IOException("partial file shrank while reading it");
                }
                buf.flip();
                md.update(buf);
                pos += n;
            }
        }

        private void await(CompletableFuture<HttpResponse<Void>> f, long started) {
            while (true) {
                try {
                    f.get(100, TimeUnit.MILLISECONDS);
                    return;
                } catch (TimeoutException e) {
                    long now = System.nanoTime();
                    if (!responded && now - started > responseTimeout.toNanos()) {
                        abort(f);
                        throw new WeightsConnectionException(url, "no response from " + url + " within "
                                + seconds(responseTimeout), null);
                    }
                    if (responded && now - lastActivity > idleTimeout.toNanos()) {
                        abort(f);
                        throw new WeightsConnectionException(url, "download of " + url + " stalled: nothing received for "
                                + seconds(idleTimeout) + " after " + (offset + received) + " bytes", null);
                    }
                } catch (InterruptedException e) {
                    abort(f);
                    Thread.currentThread().interrupt();
                    throw new WeightsException(url, "interrupted while downloading " + url);
                } catch (ExecutionException e) {
                    throw classify(e.getCause());
                }
            }
        }

        private void abort(CompletableFuture<?> f) {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            f.cancel(true);
        }

        private WeightsException classify(Throwable c) {
            while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof WeightsException) {
                return (WeightsException) c;
            }
            if (diskError != null) {
                return diskFailure(diskError);
            }
            if (streaming) {
                return new WeightsTruncatedException(url, total, offset + received, c);
            }
            if (c instanceof HttpConnectTimeoutException) {
                return new WeightsConnectionException(url, "cannot connect to " + url + ": no connection within "
                        + seconds(connectTimeout), c);
            }
            if (c instanceof ConnectException) {
                String why = describe(c);
                return new WeightsConnectionException(url, "cannot connect to " + url + ": "
                        + (why.equals("ConnectException") ? "connection refused" : why), c);
            }
            if (c instanceof IOException) {
                return new WeightsConnectionException(url, "download of " + url + " failed: " + describe(c), c);
            }
            return new WeightsException(url, "download of " + url + " failed: " + c, c);
        }

        private WeightsException diskFailure(IOException e) {
            return new WeightsException(url, "disk error writing " + partial + " while downloading " + url + ": "
                    + describe(e), e);
        }

        // -- BodyHandler: decides from the status what to do with the body --------------------------

        @Override
        public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo info) {
            lastActivity = System.nanoTime();
            status = info.statusCode();
            responded = true;
            HttpHeaders headers = info.headers();
            long length = headers.firstValueAsLong("Content-Length").orElse(-1L);
            if (status == 200) { // the whole file: no Range was sent, or the server ignored it
                try {
                    channel.truncate(0);
                } catch (IOException e) {
                    diskError = e;
                    return rejecting();
                }
                md.reset();
                if (have > 0) {
                    reporter.line("The server sent all of " + url + " instead of the range from "
                            + ProgressReporter.size(have) + "; downloading it from the start");
                }
                return stream(0, length);
            }
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(headers.firstValue("Content-Range").orElse(""));
                if (!m.matches() || m.group(1) == null || Long.parseLong(m.group(1)) != have) {
                    restart = true;
                    return rejecting();
                }
                long whole = m.group(3).equals("*") ? (length >= 0 ? have + length : -1) : Long.parseLong(m.group(3));
                resumedFrom = have;
                return stream(have, whole);
            }
            if (status == 416 && have > 0) { // nothing left after `have`: complete if the sizes agree
                Matcher m = CONTENT_RANGE.matcher(headers.firstValue("Content-Range").orElse(""));
                alreadyComplete = m.matches() && !m.group(3).equals("*") && Long.parseLong(m.group(3)) == have;
                restart = !alreadyComplete;
                resumedFrom = have;
                return rejecting();
            }
            return rejecting();
        }

        private HttpResponse.BodySubscriber<Void> stream(long from, long whole) {
            offset = from;
            total = whole;
            if (whole > from) {
                try {
                    long usable = Files.getFileStore(partial).getUsableSpace();
                    if (usable < whole - from) {
                        diskError = new IOException("not enough disk space: " + ProgressReporter.size(whole - from)
                                + " needed, " + ProgressReporter.size(usable) + " free");
                        return rejecting();
                    }
                } catch (IOException ignored) {
                    // unknown free space: try anyway, a write error is reported when it happens
                }
            }
            streaming = true;
            reporter.begin(from, whole);
            return this;
        }

        private HttpResponse.BodySubscriber<Void> rejecting() {
            return new HttpResponse.BodySubscriber<>() {
                @Override
                public CompletionStage<Void> getBody() {
                    return CompletableFuture.completedFuture(null);
                }

                @Override
                public void onSubscribe(Flow.Subscription s) {
                    s.cancel(); // no need for the body: close the connection instead of reading it
                }

                @Override
                public void onNext(List<ByteBuffer> item) {
                }

                @Override
                public void onError(Throwable throwable) {
                }

                @Override
                public void onComplete() {
                }
            };
        }

        // -- BodySubscriber: the body of a 200 or 206 -------------------------------------------------

        @Override
        public CompletionStage<Void> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            try {
                long pos = offset + received;
                for (ByteBuffer b : items) {
                    ByteBuffer forHash = b.duplicate();
                    while (b.hasRemaining()) {
                        pos += channel.write(b, pos);
                    }
                    md.update(forHash);
                    received = pos - offset;
                }
            } catch (IOException e) {
                diskError = e;
                subscription.cancel();
                body.completeExceptionally(diskFailure(e));
                return;
            }
            lastActivity = System.nanoTime();
            reporter.advance(offset + received);
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            long size = offset + received;
            if (total >= 0 && size < total) {
                body.completeExceptionally(new WeightsTruncatedException(url, total, size, null));
            } else if (total >= 0 && size > total) {
                body.completeExceptionally(new WeightsException(url, "the server of " + url + " sent " + size
                        + " bytes but announced " + total));
            } else {
                body.complete(null);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (c == null) {
                    c = HttpClient.newBuilder()
                            .followRedirects(HttpClient.Redirect.NORMAL)
                            .connectTimeout(connectTimeout)
                            .version(HttpClient.Version.HTTP_1_1)
                            .build();
                    client = c;
                }
            }
        }
        return c;
    }

    private static long sizeOf(Path file, String url) {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new WeightsException(url, "cannot read the size of " + file + " (" + url + "): " + describe(e), e);
        }
    }

    private static void deleteIfExists(Path file, String url) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new WeightsException(url, "cannot delete " + file + " (" + url + "): " + describe(e), e);
        }
    }

    private static void deleteIfEmpty(Path file) {
        try {
            if (Files.size(file) == 0) {
                Files.deleteIfExists(file);
            }
        } catch (IOException ignored) {
            // absent, or not ours to clean: leave it
        }
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static boolean startsWithIgnoreCase(String s, String prefix) {
        return s.regionMatches(true, 0, prefix, 0, prefix.length());
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The first message in a cause chain, else the exception's simple class name. */
    private static String describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof FileSystemException fse) {
                return fse.getClass().getSimpleName() + ": " + fse.getMessage();
            }
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                return c.getMessage();
            }
        }
        return t.getClass().getSimpleName();
    }

    private static String reason(int status) {
        String r = switch (status) {
            case 301, 302, 303, 307, 308 -> "redirect (not followed: too many, or https to http)";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 410 -> "Gone";
            case 416 -> "Range Not Satisfiable";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "";
        };
        return r.isEmpty() ? "" : " " + r;
    }

    /** Settings of a {@link WeightsCache}. */
    public static final class Builder {
        private Path directory;
        private Progress progress = Progress.AUTO;
        private PrintStream progressStream;
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration responseTimeout = Duration.ofSeconds(60);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int maxAttempts = 5;

        private Builder() {
        }

        /** The cache folder (default {@link WeightsCache#defaultDirectory()}). */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        /** How progress is shown (default {@link Progress#AUTO}). */
        public Builder progress(Progress progress) {
            if (progress == null) {
                throw new InvalidArgumentException("progress mode is null");
            }
            this.progress = progress;
            return this;
        }

        /** Where progress goes (default stderr). With AUTO, a stream other than stderr gets lines, not a bar. */
        public Builder progressStream(PrintStream stream) {
            this.progressStream = stream;
            return this;
        }

        /** Time allowed to open a connection (default 30 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connect timeout");
            return this;
        }

        /** Time allowed from sending a request to the response headers (default 60 s). */
        public Builder responseTimeout(Duration d) {
            this.responseTimeout = positive(d, "response timeout");
            return this;
        }

        /** Longest pause allowed in the body before the connection is dropped and resumed (default 60 s). */
        public Builder idleTimeout(Duration d) {
            this.idleTimeout = positive(d, "idle timeout");
            return this;
        }

        /**
         * Connections tried per download (default 5): after a dropped connection or a stall the next
         * one resumes, as long as the previous one added bytes. 1 = no retry within a call.
         */
        public Builder maxAttempts(int n) {
            if (n < 1) {
                throw new InvalidArgumentException("maxAttempts must be at least 1, got " + n);
            }
            this.maxAttempts = n;
            return this;
        }

        public WeightsCache build() {
            return new WeightsCache(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new InvalidArgumentException(what + " must be positive, got " + d);
            }
            return d;
        }
    }
}
