// Wisp Java launcher: a JVM started ahead of the action, which loads one
// jar when told to and runs its activations in turn.
//
// Started by actions/proxy as `java ... -cp <launcher>:<gson.jar>
// WispLauncher` before /init, so that a stem cell holds a started JVM.
// Protocol (the launcher framing of launcher.js, with the init on stdin):
//   stdin  first line: {"entry": "<jar>", "main": "Class[#method]", "env": {..}};
//          then one line per activation: "<id> <run request JSON>".
//   fd 3   one init ack line {"ok":true} | {"error":"...","compile":bool},
//          then one line per activation: "<id> <kind> <json>" where kind is
//          r (result JSON), n (main returned null) or e (main threw; json is
//          the exception as a string).
// Before every reply and before an init error the sentinel is written to
// stdout and stderr. The method is OpenWhisk's: public static JsonObject
// main(JsonObject args) (or JsonArray), the class defaulting to Main.
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;

public class WispLauncher {
    static final String SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

    static OutputStream out;

    static void markers() {
        System.out.println(SENTINEL);
        System.out.flush();
        System.err.println(SENTINEL);
        System.err.flush();
    }

    static void emit(String line) throws Exception {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    // env is System.getenv()'s backing map, which OpenWhisk's Java runtime
    // also writes through (JarLoader.augmentEnv); it needs
    // --add-opens java.base/java.util=ALL-UNNAMED.
    @SuppressWarnings("unchecked")
    static Map<String, String> env() {
        try {
            Map<String, String> view = System.getenv();
            Field f = view.getClass().getDeclaredField("m");
            f.setAccessible(true);
            return (Map<String, String>) f.get(view);
        } catch (Exception e) {
            return new HashMap<>();
        }
    }

    static Method load(String entry, String main) throws Exception {
        String[] parts = main.split("#", 2);
        String className = parts[0].isEmpty() ? "Main" : parts[0];
        String methodName = parts.length > 1 ? parts[1] : "main";
        URLClassLoader loader = new URLClassLoader(new URL[] {Paths.get(entry).toUri().toURL()},
                WispLauncher.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> cls = loader.loadClass(className);
        Method m;
        try {
            m = cls.getMethod(methodName, JsonObject.class);
        } catch (NoSuchMethodException e) {
            m = cls.getMethod(methodName, JsonArray.class);
        }
        int mod = m.getModifiers();
        if (!Modifier.isStatic(mod) || !Modifier.isPublic(mod)
                || (m.getReturnType() != JsonObject.class && m.getReturnType() != JsonArray.class)) {
            throw new NoSuchMethodException(className + "." + methodName
                    + " must be public static JsonObject " + methodName + "(JsonObject)");
        }
        m.setAccessible(true);
        return m;
    }

    public static void main(String[] args) throws Exception {
        out = new FileOutputStream("/proc/self/fd/3");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.setIn(new ByteArrayInputStream(new byte[0]));
        String first = in.readLine();
        if (first == null) {
            return;
        }
        JsonObject init = JsonParser.parseString(first).getAsJsonObject();
        Map<String, String> env = env();
        if (init.has("env")) {
            for (Map.Entry<String, JsonElement> e : init.getAsJsonObject("env").entrySet()) {
                env.put(e.getKey(), e.getValue().getAsString());
            }
        }
        Method m;
        try {
            m = load(init.get("entry").getAsString(), init.get("main").getAsString());
        } catch (Throwable t) {
            t.printStackTrace(System.err);
            markers();
            JsonObject ack = new JsonObject();
            ack.addProperty("error", t.toString());
            ack.addProperty("compile", false);
            emit(ack.toString());
            return;
        }
        Map<String, String> base = new HashMap<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith("__OW_")) {
                base.put(e.getKey(), e.getValue());
            }
        }
        emit("{\"ok\":true}");
        boolean array = m.getParameterTypes()[0] == JsonArray.class;
        for (String line; (line = in.readLine()) != null;) {
            int sp = line.indexOf(' ');
            String id = line.substring(0, sp);
            JsonObject msg = JsonParser.parseString(line.substring(sp + 1)).getAsJsonObject();
            env.keySet().removeIf(k -> k.startsWith("__OW_") && !base.containsKey(k));
            env.putAll(base);
            JsonElement value = msg.get("value");
            for (Map.Entry<String, JsonElement> e : msg.entrySet()) {
                if (!e.getKey().equals("value") && e.getValue().isJsonPrimitive()) {
                    env.put("__OW_" + e.getKey().toUpperCase(), e.getValue().getAsString());
                }
            }
            Object arg;
            if (array) {
                arg = value != null && value.isJsonArray() ? value.getAsJsonArray() : new JsonArray();
            } else {
                arg = value != null && value.isJsonObject() ? value.getAsJsonObject() : new JsonObject();
            }
            String reply;
            try {
                Object res = m.invoke(null, arg);
                reply = res == null ? "n {}" : "r " + res.toString();
            } catch (InvocationTargetException ite) {
                Throwable cause = ite.getCause();
                cause.printStackTrace(System.err);
                reply = "e " + new com.google.gson.JsonPrimitive(cause.toString()).toString();
            } catch (Throwable t) {
                t.printStackTrace(System.err);
                reply = "e " + new com.google.gson.JsonPrimitive(t.toString()).toString();
            }
            markers();
            emit(id + " " + reply);
        }
    }
}
