import com.google.gson.JsonObject;

public class Main {
    public static JsonObject main(JsonObject args) {
        String name = args.has("name") ? args.get("name").getAsString() : "world";
        System.out.println("hi " + name);
        JsonObject r = new JsonObject();
        r.addProperty("greeting", "hello " + name);
        r.addProperty("action", System.getenv("__OW_ACTION_NAME"));
        return r;
    }

    public static JsonObject add(JsonObject args) {
        JsonObject r = new JsonObject();
        r.addProperty("sum", args.get("a").getAsInt() + args.get("b").getAsInt());
        return r;
    }

    public static JsonObject fail(JsonObject args) {
        JsonObject r = new JsonObject();
        r.addProperty("error", "bad input");
        return r;
    }

    public static JsonObject crash(JsonObject args) {
        System.exit(3);
        return null;
    }

    public static JsonObject slow(JsonObject args) throws InterruptedException {
        Thread.sleep(600_000);
        return new JsonObject();
    }

    public static JsonObject raise(JsonObject args) {
        throw new IllegalStateException("kaboom");
    }
}
