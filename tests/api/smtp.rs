//! A real SMTP server for the tests: it speaks enough of the protocol for
//! a client to deliver (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps
//! every message it accepted, and can be stopped and started again on the
//! same port to play an outage, or made to wait before it answers the end of
//! `DATA` (the message is kept, the client does not know yet).

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};

/// A message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.data.as_bytes())
            .expect("a parseable message")
    }
}

pub struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl SmtpSink {
    /// A server on a free port.
    pub async fn start() -> SmtpSink {
        SmtpSink::answering_data_after(std::time::Duration::ZERO).await
    }

    /// A server that keeps each message at the end of `DATA` but answers
    /// only `delay` later.
    pub async fn answering_data_after(delay: std::time::Duration) -> SmtpSink {
        let received = Arc::default();
        let (port, stop) = listen(0, Arc::clone(&received), delay).await;
        SmtpSink {
            port,
            received,
            stop: Some(stop),
        }
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Stops listening: connections are refused until [`SmtpSink::restart`].
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Listens again on the same port, keeping what was received.
    pub async fn restart(&mut self) {
        self.stop();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, stop) = listen(
            self.port,
            Arc::clone(&self.received),
            std::time::Duration::ZERO,
        )
        .await;
        self.stop = Some(stop);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections on `port` (0: any free one) until told to stop.
async fn listen(
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    data_delay: std::time::Duration,
) -> (u16, oneshot::Sender<()>) {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a port for the SMTP sink");
    let port = listener.local_addr().expect("address").port();
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(serve(stream, Arc::clone(&received), data_delay));
                    }
                }
            }
        }
    });
    (port, stop)
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

async fn serve(
    stream: TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    data_delay: std::time::Duration,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if !reply(&mut write, "220 sink ESMTP ready\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_owned();
            "250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            "250 OK\r\n"
        } else if upper == "DATA" {
            if !reply(&mut write, "354 end with a dot\r\n").await {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            store.lock().expect("lock").push(Received {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            tokio::time::sleep(data_delay).await;
            "250 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK\r\n"
        } else if upper == "QUIT" {
            let _ = reply(&mut write, "221 bye\r\n").await;
            return;
        } else {
            "502 not implemented\r\n"
        };
        if !reply(&mut write, answer).await {
            return;
        }
    }
}
