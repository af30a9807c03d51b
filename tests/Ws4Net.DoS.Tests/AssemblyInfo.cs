// The cases load the machine on purpose (thousands of sockets, floods): one at a time, so that each one's
// bounds (latency of the healthy client, server RSS) measure that case only.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
