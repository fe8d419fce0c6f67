package com.example;

import com.google.gson.JsonObject;

public class Hello {
    public static JsonObject main(JsonObject args) {
        JsonObject r = new JsonObject();
        r.addProperty("greeting", Util.greet(args.get("name").getAsString()));
        return r;
    }
}
