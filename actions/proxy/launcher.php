<?php
// Wisp PHP launcher: loads one action and runs its activations in turn.
//
// Started by actions/proxy as `php launcher.php <entry> <main>` with the
// action's code directory as cwd; <entry> is index.php (inline code, or the
// zip's index.php, with vendor/autoload.php loaded first when present). The
// action is OpenWhisk's: function main(array $args) : array. Protocol (see
// launcher.py):
//   fd 3   one init ack line {"ok":true} | {"error":"...","compile":bool},
//          then one line per activation: "<id> <kind> <json>" where kind is
//          r (result JSON), n (the result is not an array) or e (main threw;
//          json is the message).
//   stdin  one line per activation: "<id> <run request JSON>".
// Before every reply and before an init error the sentinel is written to
// stdout and stderr.

const WISP_SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n";

$wispOut = fopen('php://fd/3', 'wb');
$wispIn = fopen('php://stdin', 'rb');
$wispAcked = false;

function wisp_markers(): void
{
    fflush(STDOUT);
    fwrite(STDOUT, WISP_SENTINEL);
    fflush(STDOUT);
    fwrite(STDERR, WISP_SENTINEL);
    fflush(STDERR);
}

function wisp_emit($out, string $line): void
{
    fwrite($out, $line . "\n");
    fflush($out);
}

// A fatal error while loading (a parse error) is the init error; one while
// running kills the launcher, as it does OpenWhisk's runner.
register_shutdown_function(static function () use ($wispOut, &$wispAcked) {
    $error = error_get_last();
    if ($wispAcked || !$error || !in_array($error['type'], [E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR], true)) {
        return;
    }
    wisp_markers();
    wisp_emit($wispOut, json_encode(['error' => $error['message'], 'compile' => true]));
});

[$wispEntry, $wispMain] = [$argv[1], $argv[2]];
ini_set('display_errors', 'stderr');
try {
    if (!is_file($wispEntry)) {
        throw new Error('Zip file does not include index.php');
    }
    if (is_file(dirname($wispEntry) . '/vendor/autoload.php')) {
        require dirname($wispEntry) . '/vendor/autoload.php';
    }
    require $wispEntry;
    if (!function_exists($wispMain)) {
        throw new Error("Action entrypoint '$wispMain' is not a function.");
    }
} catch (ParseError $e) {
    fwrite(STDERR, (string)$e . "\n");
    wisp_markers();
    wisp_emit($wispOut, json_encode(['error' => $e->getMessage(), 'compile' => true]));
    exit(0);
} catch (Throwable $e) {
    fwrite(STDERR, (string)$e . "\n");
    wisp_markers();
    wisp_emit($wispOut, json_encode(['error' => $e->getMessage(), 'compile' => false]));
    exit(0);
}
$wispBase = [];
foreach (getenv() as $k => $v) {
    if (str_starts_with($k, '__OW_')) {
        $wispBase[$k] = $v;
    }
}
$wispAcked = true;
wisp_emit($wispOut, '{"ok":true}');

while (($wispLine = fgets($wispIn)) !== false) {
    [$wispId, $wispBody] = explode(' ', $wispLine, 2);
    $wispArgs = json_decode($wispBody, true);
    foreach (getenv() as $k => $v) {
        if (str_starts_with($k, '__OW_') && !array_key_exists($k, $wispBase)) {
            putenv($k);
            unset($_ENV[$k]);
        }
    }
    foreach ($wispBase as $k => $v) {
        putenv("$k=$v");
        $_ENV[$k] = $v;
    }
    $wispValue = [];
    foreach ($wispArgs as $k => $v) {
        if ($k === 'value') {
            $wispValue = $v ?? [];
            continue;
        }
        $name = '__OW_' . strtoupper($k);
        $v = is_string($v) ? $v : json_encode($v);
        putenv("$name=$v");
        $_ENV[$name] = $v;
    }
    try {
        $wispResult = $wispMain($wispValue);
        if (is_object($wispResult) && $wispResult instanceof stdClass) {
            $wispResult = (array)$wispResult;
        } elseif ($wispResult === null) {
            $wispResult = [];
        }
        if (is_array($wispResult)) {
            $json = json_encode(array_is_list($wispResult) && $wispResult !== [] ? $wispResult : (object)$wispResult, JSON_UNESCAPED_SLASHES);
            $wispReply = $json === false ? 'n {}' : 'r ' . $json;
        } else {
            fwrite(STDERR, 'Result must be an array but has type "' . gettype($wispResult) . "\"\n");
            $wispReply = 'n {}';
        }
    } catch (Throwable $e) {
        fwrite(STDERR, (string)$e . "\n");
        $wispReply = 'e ' . json_encode($e->getMessage());
    }
    wisp_markers();
    wisp_emit($wispOut, $wispId . ' ' . $wispReply);
}
