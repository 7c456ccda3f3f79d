package redisconn

// KeysDB is the database whose keys a command sees: the URL's, and on a
// cluster, which has only one, db 0.
func (c *Conn) KeysDB() int {
	if c.Cluster {
		return 0
	}
	return c.DB
}
