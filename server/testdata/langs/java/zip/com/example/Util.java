package com.example;

class Util {
    static String greet(String name) {
        return "hello " + name + " from two classes";
    }
}
