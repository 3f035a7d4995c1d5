package dev.maskrcnn4j.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.maskrcnn4j.InvalidArgumentException;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WeightsCache against an HTTP server on 127.0.0.1 (nothing leaves the machine). */
class WeightsCacheTest {
    private static final byte[] DATA = new byte[300_000];
    private static final String SHA;
    private static final String NAME;

    static {
        new Random(42).nextBytes(DATA);
        SHA = sha256(DATA);
        NAME = "tiny_coco-" + SHA.substring(0, 8) + ".pth";
    }

    @TempDir
    Path tmp;

    private HttpServer server;
    private ExecutorService pool;
    private Path cacheDir;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        pool = Executors.newCachedThreadPool();
        server.setExecutor(pool);
        server.start();
        cacheDir = tmp.resolve("cache");
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
        pool.shutdownNow();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private WeightsCache.Builder cache() {
        return WeightsCache.builder().directory(cacheDir).progress(WeightsCache.Progress.LINES)
                .progressStream(new PrintStream(log, true, StandardCharsets.UTF_8))
                .connectTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofSeconds(10))
                .idleTimeout(Duration.ofSeconds(10));
    }

    private String log() {
        return log.toString(StandardCharsets.UTF_8);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Serves a byte array; optionally ignores Range, drops or stalls the first response, goes slowly. */
    static final class FileHandler implements HttpHandler {
        final byte[] data;
        boolean honourRange = true;
        boolean wrongRangeStart;
        boolean chunked;
        int dropFirstAfter = -1;
        int stallFirstAfter = -1;
        int chunk = 16 * 1024;
        int chunkDelayMillis;
        Runnable beforeFirstResponse = () -> { };
        final AtomicInteger hits = new AtomicInteger();
        final List<String> ranges = new CopyOnWriteArrayList<>();

        FileHandler(byte[] data) {
            this.data = data;
        }

        @Override
        public void handle(HttpExchange ex) throws IOException {
            int n = hits.incrementAndGet();
            if (n == 1) {
                beforeFirstResponse.run();
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            int start = 0;
            Matcher m = range == null ? null : Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (m != null && m.matches() && honourRange) {
                start = Integer.parseInt(m.group(1));
                if (start >= data.length) {
                    ex.getResponseHeaders().set("Content-Range", "bytes */" + data.length);
                    ex.sendResponseHeaders(416, -1);
                    ex.close();
                    return;
                }
                if (wrongRangeStart) {
                    start = 0;
                }
                ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
                ex.sendResponseHeaders(206, chunked ? 0 : data.length - start);
            } else {
                ex.sendResponseHeaders(200, chunked ? 0 : data.length);
            }
            OutputStream out = ex.getResponseBody();
            int end = n == 1 && dropFirstAfter >= 0 ? Math.min(dropFirstAfter, data.length) : data.length;
            for (int pos = start; pos < end; ) {
                int stop = Math.min(end, pos + chunk);
                if (n == 1 && stallFirstAfter > pos && stallFirstAfter < stop) {
                    stop = stallFirstAfter;
                }
                out.write(data, pos, stop - pos);
                out.flush();
                pos = stop;
                try {
                    if (n == 1 && pos == stallFirstAfter) {
                        Thread.sleep(30_000);
                    } else if (chunkDelayMillis > 0) {
                        Thread.sleep(chunkDelayMillis);
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
            if (end < data.length) {
                throw new IOException("test server drops the connection after " + end + " bytes");
            }
            out.close();
        }
    }

    private FileHandler serve(String path) {
        FileHandler h = new FileHandler(DATA);
        server.createContext(path, h);
        return h;
    }

    private static void assertCompleteFile(Path p) throws IOException {
        assertArrayEquals(DATA, Files.readAllBytes(p));
        assertFalse(Files.exists(p.resolveSibling(p.getFileName() + ".partial")), "no partial file left");
    }

    // -------------------------------------------------------------------------------------------

    @Test
    void downloadsVerifiesAndCaches() throws IOException {
        FileHandler h = serve("/models/" + NAME);
        WeightsCache cache = cache().build();
        Path p = cache.resolve(url("/models/" + NAME));
        assertEquals(cacheDir.resolve(NAME), p);
        assertCompleteFile(p);
        assertEquals(1, h.hits.get());
        assertEquals("null", h.ranges.get(0), "a fresh download sends no Range");
        String out = log();
        assertTrue(out.contains("Downloading " + url("/models/" + NAME)), out);
        assertTrue(out.contains("Downloaded " + url("/models/" + NAME)) && out.contains(SHA) && out.contains("(verified)"), out);
        assertEquals(2, out.lines().count(), "LINES: one line at start, one at end\n" + out);

        assertEquals(p, cache.resolve(url("/models/" + NAME)));
        assertEquals(p, cache().build().resolve(url("/models/" + NAME)));
        assertEquals(1, h.hits.get(), "the second call is served from the cache");
        assertEquals(p, cache.cachedFile(url("/models/" + NAME)));
        assertEquals(p, cache.resolve(url("/models/" + NAME), SHA), "a full hash checks the cached file");
        assertEquals(1, h.hits.get());
    }

    @Test
    void resumesAfterDroppedConnectionWithinOneCall() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.dropFirstAfter = 100_000;
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(2, h.hits.get());
        assertEquals(List.of("null", "bytes=100000-"), h.ranges);
        assertTrue(log().contains("resuming"), log());
    }

    @Test
    void resumesAChunkedResponse() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.chunked = true; // no Content-Length: the end of the body is the last chunk
        h.dropFirstAfter = 150_000;
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("null", "bytes=150000-"), h.ranges);
    }

    @Test
    void resumesInALaterCall() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.dropFirstAfter = 100_000;
        WeightsCache once = cache().maxAttempts(1).build();
        WeightsTruncatedException e = assertThrows(WeightsTruncatedException.class, () -> once.resolve(url("/" + NAME)));
        assertTrue(e.getMessage().contains(url("/" + NAME)), e.getMessage());
        assertEquals(DATA.length, e.expectedBytes());
        assertEquals(100_000, e.receivedBytes());
        assertEquals(url("/" + NAME), e.source());
        Path partial = cacheDir.resolve(NAME + ".partial");
        assertArrayEquals(Arrays.copyOf(DATA, 100_000), Files.readAllBytes(partial));
        assertFalse(Files.exists(cacheDir.resolve(NAME)), "a partial file is never under the final name");

        Path p = once.resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("null", "bytes=100000-"), h.ranges);
        assertTrue(log().contains("Resuming the download of " + url("/" + NAME)), log());
    }

    @Test
    void restartsWhenTheServerIgnoresRange() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.honourRange = false;
        Files.createDirectories(cacheDir);
        byte[] junk = new byte[70_000];
        Arrays.fill(junk, (byte) 0x5a);
        Files.write(cacheDir.resolve(NAME + ".partial"), junk);
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("bytes=70000-"), h.ranges);
        assertTrue(log().contains("from the start"), log());
    }

    @Test
    void restartsWhenTheServerSendsAnotherRange() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.wrongRangeStart = true;
        Files.createDirectories(cacheDir);
        Files.write(cacheDir.resolve(NAME + ".partial"), Arrays.copyOf(DATA, 1000));
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("bytes=1000-", "null"), h.ranges);
    }

    @Test
    void completePartialFileIsFinishedWithoutData() throws IOException {
        FileHandler h = serve("/" + NAME);
        Files.createDirectories(cacheDir);
        Files.write(cacheDir.resolve(NAME + ".partial"), DATA);
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("bytes=300000-"), h.ranges); // answered 416 with the full size
    }

    @Test
    void corruptPartialFileIsDownloadedAgain() throws IOException {
        FileHandler h = serve("/" + NAME);
        Files.createDirectories(cacheDir);
        byte[] wrongPrefix = Arrays.copyOf(DATA, 5000);
        wrongPrefix[10] ^= 1;
        Files.write(cacheDir.resolve(NAME + ".partial"), wrongPrefix);
        Path p = cache().build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals(List.of("bytes=5000-", "null"), h.ranges);
        assertTrue(log().contains("does not match after resuming"), log());
    }

    @Test
    void hashMismatchDeletesAndNamesBothHashes() {
        String wrong = "tiny_coco-00000000.pth";
        serve("/" + wrong);
        String u = url("/" + wrong);
        WeightsHashMismatchException e = assertThrows(WeightsHashMismatchException.class, () -> cache().build().resolve(u));
        assertTrue(e.getMessage().contains(u), e.getMessage());
        assertTrue(e.getMessage().contains("00000000") && e.getMessage().contains(SHA), e.getMessage());
        assertEquals("00000000", e.expected());
        assertEquals(SHA, e.actual());
        assertFalse(Files.exists(cacheDir.resolve(wrong)));
        assertFalse(Files.exists(cacheDir.resolve(wrong + ".partial")));
    }

    @Test
    void explicitFullHash() throws IOException {
        serve("/plain.pth");
        String u = url("/plain.pth");
        String wrong = "0".repeat(64);
        WeightsHashMismatchException e = assertThrows(WeightsHashMismatchException.class,
                () -> cache().build().resolve(u, wrong));
        assertTrue(e.getMessage().contains(u) && e.getMessage().contains(wrong) && e.getMessage().contains(SHA), e.getMessage());
        assertFalse(Files.exists(cacheDir.resolve("plain.pth")));

        Path p = cache().build().resolve(u, SHA.toUpperCase());
        assertCompleteFile(p);
        WeightsHashMismatchException cached = assertThrows(WeightsHashMismatchException.class,
                () -> cache().build().resolve(u, wrong));
        assertTrue(cached.getMessage().contains(u), cached.getMessage());
        assertTrue(Files.exists(p), "a cached file that differs from a given hash is reported, not deleted");

        assertThrows(InvalidArgumentException.class, () -> cache().build().resolve(u, "abc"));
        assertThrows(InvalidArgumentException.class, () -> cache().build().resolve(url("/" + NAME), wrong),
                "a full hash that contradicts the name's prefix");
    }

    @Test
    void httpErrorsNameTheUrlAndStatus() {
        server.createContext("/missing-0123abcd.pth", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/broken.pth", ex -> {
            byte[] body = "oops".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(500, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        String u404 = url("/missing-0123abcd.pth");
        WeightsHttpException e404 = assertThrows(WeightsHttpException.class, () -> cache().build().resolve(u404));
        assertEquals(404, e404.statusCode());
        assertTrue(e404.getMessage().contains(u404) && e404.getMessage().contains("404 Not Found"), e404.getMessage());
        assertFalse(Files.exists(cacheDir.resolve("missing-0123abcd.pth.partial")), "no empty partial file left");

        String u500 = url("/broken.pth");
        WeightsHttpException e500 = assertThrows(WeightsHttpException.class, () -> cache().build().resolve(u500));
        assertEquals(500, e500.statusCode());
        assertTrue(e500.getMessage().contains(u500) && e500.getMessage().contains("500"), e500.getMessage());
    }

    @Test
    void connectionRefused() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String u = "http://127.0.0.1:" + port + "/" + NAME;
        WeightsConnectionException e = assertThrows(WeightsConnectionException.class, () -> cache().build().resolve(u));
        assertTrue(e.getMessage().contains(u), e.getMessage());
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
        assertFalse(Files.exists(cacheDir.resolve(NAME + ".partial")));
    }

    @Test
    void followsRedirects() throws IOException {
        FileHandler h = serve("/files/v1/" + NAME);
        server.createContext("/latest/" + NAME, ex -> {
            ex.getResponseHeaders().set("Location", url("/files/v1/" + NAME));
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        Path p = cache().build().resolve(url("/latest/" + NAME));
        assertEquals(cacheDir.resolve(NAME), p);
        assertCompleteFile(p);
        assertEquals(1, h.hits.get());
    }

    @Test
    void hashPrefixOnlyFromTorchvisionStyleNames() throws IOException {
        assertEquals(Optional.of("bf2d0c1e"), WeightsCache.expectedHashPrefix("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth"));
        assertEquals(Optional.of("73cbd019"), WeightsCache.expectedHashPrefix("maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth"));
        assertEquals(Optional.of(SHA), WeightsCache.expectedHashPrefix("m-" + SHA + ".pth"));
        assertEquals(Optional.of("0123abcd"), WeightsCache.expectedHashPrefix("a-b-0123abcd.tar.gz"));
        for (String bad : List.of("resnet50-imagenet.pth", "model-BF2D0C1E.pth", "model-bf2d0c1.pth",
                "model-bf2d0c1g.pth", "model_bf2d0c1e.pth", "model-bf2d0c1e", "-bf2d0c1e.pth",
                "model-bf2d0c1e-v2.pth", "model-" + SHA + "0.pth")) {
            assertEquals(Optional.empty(), WeightsCache.expectedHashPrefix(bad), bad);
        }
        // Such a name is downloaded, and said to be unverified.
        String looksHashed = "model-bf2d0c1g.pth";
        FileHandler h = serve("/" + looksHashed);
        Path p = cache().build().resolve(url("/" + looksHashed));
        assertCompleteFile(p);
        assertEquals(1, h.hits.get());
        assertTrue(log().contains("not verified"), log());
    }

    @Test
    void fourThreadsOneDownload() throws Exception {
        FileHandler h = serve("/" + NAME);
        h.chunkDelayMillis = 10;
        WeightsCache a = cache().build();
        WeightsCache b = cache().build(); // a second instance on the same folder shares the lock
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                WeightsCache c = i % 2 == 0 ? a : b;
                results.add(threads.submit(() -> {
                    go.await();
                    return c.resolve(url("/" + NAME));
                }));
            }
            go.countDown();
            for (Future<Path> f : results) {
                assertEquals(cacheDir.resolve(NAME), f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(1, h.hits.get());
        assertCompleteFile(cacheDir.resolve(NAME));
    }

    @Test
    void twoProcessesOneDownload() throws Exception {
        // Three participants (this JVM and two child JVMs): whichever takes the lock downloads, and
        // the server holds its response until the other two have said they are waiting for it.
        String waitingLine = "Waiting for another process downloading " + url("/" + NAME);
        AtomicInteger childrenWaiting = new AtomicInteger();
        FileHandler h = serve("/" + NAME);
        h.beforeFirstResponse = () -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (childrenWaiting.get() + (log().contains(waitingLine) ? 1 : 0) < 2 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        };
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> children = new ArrayList<>();
        List<StringBuilder> outputs = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Process c = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    WeightsCacheChildProcess.class.getName(), cacheDir.toString(), url("/" + NAME))
                    .redirectErrorStream(true).start();
            StringBuilder out = new StringBuilder();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (out) {
                            out.append(line).append('\n');
                        }
                        if (line.startsWith(waitingLine)) {
                            childrenWaiting.incrementAndGet();
                        }
                    }
                } catch (IOException ignored) {
                    // the child ended
                }
            });
            reader.start();
            children.add(c);
            outputs.add(out);
            readers.add(reader);
        }
        Path mine = cache().responseTimeout(Duration.ofSeconds(90)).build().resolve(url("/" + NAME));
        for (int i = 0; i < 2; i++) {
            assertTrue(children.get(i).waitFor(90, TimeUnit.SECONDS), "child finished");
            readers.get(i).join(10_000);
            String out;
            synchronized (outputs.get(i)) {
                out = outputs.get(i).toString();
            }
            assertEquals(0, children.get(i).exitValue(), out);
            assertTrue(out.contains("resolved " + mine), out);
        }
        assertEquals(2, childrenWaiting.get() + (log().contains(waitingLine) ? 1 : 0),
                "two of the three waited on the lock\n" + log() + outputs);
        assertEquals(1, h.hits.get());
        assertCompleteFile(mine);
    }

    @Test
    void stalledBodyIsResumed() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.stallFirstAfter = 120_000;
        Path p = cache().idleTimeout(Duration.ofMillis(1000)).build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        assertEquals("null", h.ranges.get(0));
        assertTrue(h.ranges.contains("bytes=120000-"), h.ranges.toString()); // (a loaded machine may stall more)
        assertTrue(log().contains("stalled"), log());
    }

    @Test
    void noResponseTimesOut() {
        server.createContext("/silent.pth", ex -> {
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException ignored) {
                // server stopping
            }
        });
        String u = url("/silent.pth");
        WeightsConnectionException e = assertThrows(WeightsConnectionException.class,
                () -> cache().responseTimeout(Duration.ofMillis(300)).build().resolve(u));
        assertTrue(e.getMessage().contains(u) && e.getMessage().contains("no response"), e.getMessage());
    }

    @Test
    void diskErrorsNameTheUrl() throws IOException {
        serve("/" + NAME);
        Path notADir = tmp.resolve("file");
        Files.writeString(notADir, "x");
        String u = url("/" + NAME);
        WeightsException e = assertThrows(WeightsException.class,
                () -> cache().directory(notADir.resolve("cache")).build().resolve(u));
        assertEquals(WeightsException.class, e.getClass());
        assertTrue(e.getMessage().contains(u), e.getMessage());
    }

    @Test
    void progressBar() throws IOException {
        FileHandler h = serve("/" + NAME);
        h.chunkDelayMillis = 15;
        Path p = cache().progress(WeightsCache.Progress.BAR).build().resolve(url("/" + NAME));
        assertCompleteFile(p);
        String out = log();
        assertTrue(out.contains("\r" + NAME + " "), out);
        assertTrue(out.contains("100% [========================] 293.0 KiB / 293.0 KiB"), out);
        assertTrue(out.contains("/s"), out);
        assertTrue(out.contains("Downloaded "), out);

        log.reset();
        cache().progress(WeightsCache.Progress.NONE).directory(tmp.resolve("quiet")).build().resolve(url("/" + NAME));
        assertEquals("", log());
    }

    @Test
    void localPaths() throws IOException {
        Path f = tmp.resolve("local.pth");
        Files.write(f, DATA);
        WeightsCache cache = cache().build();
        assertEquals(f, cache.resolve(f.toString()));
        assertEquals(f, cache.resolve(f.toUri().toString()));
        assertEquals(f, cache.resolve(f.toString(), SHA));
        WeightsHashMismatchException bad = assertThrows(WeightsHashMismatchException.class,
                () -> cache.resolve(f.toString(), "f".repeat(64)));
        assertTrue(bad.getMessage().contains(f.toString()), bad.getMessage());
        assertTrue(Files.exists(f), "a local file is never deleted");

        String missing = tmp.resolve("nope.pth").toString();
        WeightsException e = assertThrows(WeightsException.class, () -> cache.resolve(missing));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains(missing), e.getMessage());
        WeightsException dir = assertThrows(WeightsException.class, () -> cache.resolve(tmp.toString()));
        assertTrue(dir.getMessage().contains("directory"), dir.getMessage());
        assertFalse(Files.exists(cacheDir), "local paths do not touch the cache");

        assertThrows(InvalidArgumentException.class, () -> cache.resolve(""));
        assertThrows(InvalidArgumentException.class, () -> cache.resolve(null));
        assertThrows(InvalidArgumentException.class, () -> cache.resolve("ftp://example.org/m.pth"));
        assertThrows(InvalidArgumentException.class, () -> cache.resolve("http://127.0.0.1:1/"));
        assertThrows(InvalidArgumentException.class, () -> cache.resolve("http:///m.pth"));
        assertTrue(WeightsCache.isUrl(" HTTPS://x/y.pth"));
        assertFalse(WeightsCache.isUrl("/x/y.pth"));
    }

    @Test
    void defaultDirectory() {
        assertEquals(Path.of("/c/w"), WeightsCache.defaultDirectory(Map.of("MASKRCNN4J_CACHE", "/c/w"), "/home/u"));
        assertEquals(Path.of("/x/maskrcnn4j/weights"), WeightsCache.defaultDirectory(Map.of("XDG_CACHE_HOME", "/x"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/maskrcnn4j/weights"), WeightsCache.defaultDirectory(Map.of(), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/maskrcnn4j/weights"),
                WeightsCache.defaultDirectory(Map.of("XDG_CACHE_HOME", "relative"), "/home/u"));
    }
}
