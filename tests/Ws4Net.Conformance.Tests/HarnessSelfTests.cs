using System.Text;
using Ws4Net.Conformance.Tests.Infrastructure;

namespace Ws4Net.Conformance.Tests;

/// <summary>Checks of the test harness itself (frame builder, reference UTF-8 validator, payloads); no endpoint is involved.</summary>
[Trait("Family", "harness")]
public sealed class HarnessSelfTests
{
    [Fact]
    public void ReferenceUtf8Validator_AgreesWithTheFamily6Table_AndWithDotNet()
    {
        foreach ((string name, (byte[] bytes, bool valid)) in Family06Utf8Tests.s_all)
        {
            Assert.True(valid == Utf8Reference.IsValid(bytes), $"{name}: the test's reference validator disagrees with the table");
            Assert.True(valid == System.Text.Unicode.Utf8.IsValid(bytes), $"{name}: .NET's validator disagrees with the table");
        }
    }

    [Theory]
    [InlineData("41 F4 90 80", 3)]
    [InlineData("ED A0 80", 2)]
    [InlineData("F0 90 80", -1)]
    [InlineData("C0 80", 1)]
    [InlineData("F5 80 80 80", 1)]
    [InlineData("E0 9F BF", 2)]
    [InlineData("F0 8F", 2)]
    [InlineData("EF BF BF", -1)]
    [InlineData("41 80", 2)]
    public void ReferenceUtf8Validator_FindsTheFailFastPoint(string hex, int doomedAt)
        => Assert.Equal(doomedAt, Utf8Reference.FirstDoomedPrefixLength(Hex.Parse(hex)));

    [Fact]
    public void FrameBuilder_MatchesTheRfc6455Section57Examples()
    {
        // A single-frame unmasked text message "Hello" and the masked one (RFC 6455 §5.7).
        Assert.Equal(Hex.Parse("81 05 48 65 6C 6C 6F"), FrameBuilder.Build(Op.Text, "Hello"u8));
        Assert.Equal(Hex.Parse("81 85 37 FA 21 3D 7F 9F 4D 51 58"), FrameBuilder.Build(Op.Text, "Hello"u8, maskKey: Hex.Parse("37 FA 21 3D")));
        Assert.Equal(Hex.Parse("82 7E 01 00"), FrameBuilder.Build(Op.Binary, new byte[256])[..4]);
        Assert.Equal(Hex.Parse("82 7F 00 00 00 00 00 01 00 00"), FrameBuilder.Build(Op.Binary, new byte[65536])[..10]);
    }

    [Fact]
    public void Masking_IsItsOwnInverse_AtEveryOffset()
    {
        byte[] key = Hex.Parse("A1 B2 C3 D4");
        byte[] data = Payloads.Binary(1000);
        byte[] copy = data.ToArray();
        FrameBuilder.Mask(copy.AsSpan(0, 3), key, 0);
        FrameBuilder.Mask(copy.AsSpan(3), key, 3);
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal((byte)(data[i] ^ key[i & 3]), copy[i]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(125)]
    [InlineData(65536)]
    [InlineData(1 << 20)]
    public void TextPayloads_AreValidUtf8_OfTheExactLength_WithMultiByteCharacters(int length)
    {
        byte[] text = Payloads.Text(length, seed: length);
        Assert.Equal(length, text.Length);
        Assert.True(Utf8Reference.IsValid(text));
        if (length > 1000)
        {
            Assert.Contains(text, b => b >= 0xF0);
            Assert.True(Encoding.UTF8.GetCharCount(text) < length);
        }
    }

    [Fact]
    public void PipelinedPayloads_Are16ByteAsciiIndices()
    {
        byte[] payload = new byte[16];
        Family08LimitsAndLoadTests.SmallPayload(999_999, payload);
        Assert.Equal("0000000000999999"u8.ToArray(), payload);
    }

    /// <summary>docs/conformance.md counts results per family from the class names (TRX files carry no traits): keep them in step.</summary>
    [Fact]
    public void EveryFamilyClass_CarriesTheFamilyTraitOfItsName()
    {
        Type[] classes = typeof(HarnessSelfTests).Assembly.GetTypes()
            .Where(t => t.Name.StartsWith("Family", StringComparison.Ordinal) && t.Name.EndsWith("Tests", StringComparison.Ordinal))
            .ToArray();
        Assert.Equal(9, classes.Length);
        foreach (Type type in classes)
        {
            string number = int.Parse(type.Name.AsSpan(6, 2), System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);
            System.Reflection.CustomAttributeData trait = Assert.Single(type.GetCustomAttributesData(), a => a.AttributeType == typeof(TraitAttribute));
            Assert.Equal(new object?[] { "Family", number }, trait.ConstructorArguments.Select(a => a.Value).ToArray());
        }
    }
}
