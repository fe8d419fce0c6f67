# Wisp Ruby launcher: loads one action and runs its activations in turn.
#
# Started by actions/proxy as `ruby launcher.rb <entry> <main>` with the
# action's code directory as cwd; <entry> is main.rb (inline code, or the
# zip's main.rb). The action is OpenWhisk's: `def main(args)` returning a
# Hash. Protocol (see launcher.py):
#   fd 3   one init ack line {"ok":true} | {"error":"...","compile":bool},
#          then one line per activation: "<id> <kind> <json>" where kind is
#          r (result JSON) or n (the result is not a Hash or Array).
#   stdin  one line per activation: "<id> <run request JSON>".
# Before every reply and before an init error the sentinel is written to
# stdout and stderr.
require "json"

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n"

def wisp_markers
  STDOUT.flush
  STDOUT.write(SENTINEL)
  STDOUT.flush
  STDERR.flush
  STDERR.write(SENTINEL)
  STDERR.flush
end

def wisp_emit(out, line)
  out.write(line + "\n")
  out.flush
end

def wisp_encode(res)
  unless res.is_a?(Hash) || res.is_a?(Array)
    STDERR.puts "Result must be of type Hash but has type \"#{res.class}\": #{res.inspect}"
    return "n {}"
  end
  "r " + JSON.generate(res)
rescue StandardError => e
  STDERR.puts "Result is not serializable as JSON: #{e}"
  "n {}"
end

def wisp_main
  entry, main_name = ARGV[0], ARGV[1]
  out = IO.new(3, "w")
  input = IO.new(STDIN.fileno).dup
  STDIN.reopen(File::NULL)
  begin
    raise LoadError, "Zip file does not include main.rb" unless File.file?(entry)
    $LOAD_PATH.unshift(File.dirname(File.expand_path(entry)))
    load File.expand_path(entry)
    unless Object.private_method_defined?(main_name) || Object.method_defined?(main_name)
      raise NameError, "Action entrypoint '#{main_name}' is not a function."
    end
  rescue SyntaxError, LoadError => e
    STDERR.puts e.full_message(highlight: false)
    wisp_markers
    wisp_emit(out, JSON.generate({ "error" => e.message, "compile" => true }))
    return
  rescue Exception => e
    STDERR.puts e.full_message(highlight: false)
    wisp_markers
    wisp_emit(out, JSON.generate({ "error" => e.message, "compile" => false }))
    return
  end
  base = ENV.to_h.select { |k, _| k.start_with?("__OW_") }
  wisp_emit(out, '{"ok":true}')
  while (line = input.gets)
    id, body = line.split(" ", 2)
    args = JSON.parse(body)
    ENV.keys.each { |k| ENV.delete(k) if k.start_with?("__OW_") && !base.key?(k) }
    ENV.update(base)
    payload = {}
    args.each do |key, value|
      if key == "value"
        payload = value.nil? ? {} : value
      elsif value.is_a?(String)
        ENV["__OW_#{key.upcase}"] = value
      else
        ENV["__OW_#{key.upcase}"] = JSON.generate(value)
      end
    end
    begin
      res = send(main_name, payload)
    rescue Exception => e
      STDERR.puts e.full_message(highlight: false)
      res = { "error" => e.message }
    end
    reply = wisp_encode(res)
    wisp_markers
    wisp_emit(out, "#{id} #{reply}")
  end
end

wisp_main
