using System.Text;

namespace Ws4Net.Benchmarks;

/// <summary>Deterministic payloads shaped like real traffic: JSON-ish chat/ticker text that compresses like the real thing.</summary>
internal static class Payloads
{
    public static byte[] JsonLike(int size, int seed = 42)
    {
        var random = new Random(seed);
        var builder = new StringBuilder(size + 128);
        string[] symbols = ["EURUSD", "GBPUSD", "USDJPY", "BTCUSD", "ETHUSD", "AAPL", "MSFT", "NVDA"];
        while (builder.Length < size)
        {
            builder.Append("{\"type\":\"tick\",\"symbol\":\"").Append(symbols[random.Next(symbols.Length)])
                .Append("\",\"bid\":").Append(random.Next(1000, 99999)).Append('.').Append(random.Next(100, 999))
                .Append(",\"ask\":").Append(random.Next(1000, 99999)).Append('.').Append(random.Next(100, 999))
                .Append(",\"seq\":").Append(random.Next()).Append("},");
        }

        return Encoding.UTF8.GetBytes(builder.ToString(0, size));
    }
}
