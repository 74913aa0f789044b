package io.berth.testkit;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;

/** Wire details shared by the fake AWS services: forms, XML bits, each protocol's error body. */
final class AwsWire {
  static final String EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/";
  static final String ASG_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
  static final String R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/";

  private AwsWire() {}

  /** An error answer: HTTP status, AWS error code, message. */
  static final class Failure extends RuntimeException {
    final int status;
    final String code;

    Failure(int status, String code, String message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** EC2: {@code <Response><Errors><Error>}; query and Route 53: {@code <ErrorResponse><Error><Type>}. */
  static String errorXml(String service, String code, String message) {
    String error = el("Code", code) + el("Message", message);
    String id = el("RequestId", UUID.randomUUID());
    return switch (service) {
      case "ec2" -> "<Response><Errors><Error>" + error + "</Error></Errors>" + el("RequestID", UUID.randomUUID())
          + "</Response>";
      case "route53" -> "<ErrorResponse xmlns=\"" + R53_NS + "\"><Error><Type>Sender</Type>" + error + "</Error>" + id
          + "</ErrorResponse>";
      default -> "<ErrorResponse xmlns=\"" + ASG_NS + "\"><Error><Type>Sender</Type>" + error + "</Error>" + id
          + "</ErrorResponse>";
    };
  }

  static void reply(HttpExchange ex, int status, String xml) throws IOException {
    byte[] bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xml).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/xml;charset=UTF-8");
    ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  static String el(String name, Object value) {
    String v = String.valueOf(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    return "<" + name + ">" + v + "</" + name + ">";
  }

  /** A form body or a query string, in order. */
  static Map<String, String> form(String raw) {
    Map<String, String> m = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      m.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return m;
  }

  /** Query-protocol lists: prefix1, prefix2, ... until one is missing. */
  static List<String> list(Map<String, String> p, String prefix) {
    List<String> out = new ArrayList<>();
    for (int i = 1; p.containsKey(prefix + i); i++) {
      out.add(p.get(prefix + i));
    }
    return out;
  }

  static Element parse(String xml) {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)))
          .getDocumentElement();
    } catch (Exception e) {
      throw new Failure(400, "InvalidInput", "malformed XML: " + e.getMessage());
    }
  }
}
